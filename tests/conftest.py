"""Shared fixtures: real databases (SQLite always, PostgreSQL where TEST_DATABASE_URL points)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from bot.transcript.store import TranscriptStore
from tests.stack_harness import Stack, make_stack

PROJECT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


# Settings a developer's shell may carry (HELPLINE_RASA_PORT=6000, a DATABASE_URL, a Telegram
# token) must not change what a test sees. TEST_DATABASE_URL, TEST_REDIS_URL and the
# HF_*/TRANSFORMERS_* offline switches are the test run's own and stay.
_CALLER_SETTINGS = ("HELPLINE_", "TELEGRAM_")
_CALLER_URLS = ("DATABASE_URL", "REDIS_URL")


@pytest.fixture(autouse=True)
def _without_caller_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_CALLER_SETTINGS) or name in _CALLER_URLS:
            monkeypatch.delenv(name, raising=False)


def _driver_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database on the server TEST_DATABASE_URL names, dropped afterwards."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL variant skipped")
    base = make_url(_driver_url(TEST_DATABASE_URL))
    name = f"helpline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'helpline.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgresql_url_clean")
    yield url


@pytest.fixture
def postgresql_url_clean(postgres_url: str) -> str:
    from staff.auth.models import AuthBase
    from bot.transcript.models import TranscriptBase
    from handoff.models import HandoffBase

    tables = [t.name for base in (TranscriptBase, AuthBase, HandoffBase) for t in base.metadata.sorted_tables]
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url


@pytest.fixture
def store(database_url: str) -> Iterator[TranscriptStore]:
    engine = make_engine(database_url)
    yield TranscriptStore(make_session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Real Rasa + action server + gateway, started once for the whole test session."""
    running = make_stack(tmp_path_factory.mktemp("stack"))
    try:
        for name in ("actions", "rasa", "gateway"):
            running.start(name)
        yield running
    finally:
        running.stop_all()
