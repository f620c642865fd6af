"""Reliability harness: `.venv/bin/python scripts/reliability --help` (docs/reliability.md)."""
