"""Fixtures for handoff: real SQLite (temp file) and, with TEST_DATABASE_URL, PostgreSQL.

The PostgreSQL database is the session-wide throwaway one from tests/conftest.py
(migrated to head); its ``postgresql_url_clean`` truncates only transcript tables, so
``handoff_postgres_url`` empties the handoff tables itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_session_factory
from handoff import Handoff, HandoffBase, HandoffPolicy, ManualClock

# Monday 23 November 2026, 10:00 UTC: inside any sensible opening hours.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)

HANDOFF_TABLES = "ticket_events, ticket_notes, conversation_owners, agent_presence, tickets"


def new_conversation() -> str:
    return uuid.uuid4().hex


def sqlite_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    HandoffBase.metadata.create_all(engine)
    return engine


@pytest.fixture
def handoff_postgres_url(postgres_url: str) -> str:
    engine = make_engine(postgres_url)
    # Until migration 0003 is at head this creates the tables; afterwards it is a no-op.
    HandoffBase.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {HANDOFF_TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        created = sqlite_engine(tmp_path / "handoff.db")
    else:
        created = make_engine(request.getfixturevalue("handoff_postgres_url"))
    yield created
    created.dispose()


@pytest.fixture
def sqlite_only_engine(tmp_path: Path) -> Iterator[Engine]:
    created = sqlite_engine(tmp_path / "handoff.db")
    yield created
    created.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_10)


@pytest.fixture
def policy() -> HandoffPolicy:
    return HandoffPolicy()


@pytest.fixture
def handoff(policy: HandoffPolicy, clock: ManualClock) -> Handoff:
    return Handoff(policy, clock)
