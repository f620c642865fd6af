"""Dashboard fixtures: the analytics session and row builder."""

from tests.analytics.conftest import rows, session  # noqa: F401  (fixtures)
