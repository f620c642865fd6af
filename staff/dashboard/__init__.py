"""Supervisor KPI dashboard and agents' own stats (issue 6)."""
