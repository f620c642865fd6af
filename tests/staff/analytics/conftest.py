"""Analytics fixtures: a session on a migrated, empty database and a row builder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from staff.analytics import Period
from bot.db import make_engine, make_session_factory
from tests.staff.analytics.builders import RowBuilder

# Monday 2 November 2026, 00:00 UTC; the reporting period is that week.
T0 = datetime(2026, 11, 2, tzinfo=UTC)
WEEK = Period(T0, T0 + timedelta(days=7))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def rows(session: Session) -> RowBuilder:
    return RowBuilder(session)
