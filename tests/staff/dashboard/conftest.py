"""Dashboard fixtures: the analytics session and row builder."""

from tests.staff.analytics.conftest import rows, session  # noqa: F401  (fixtures)
