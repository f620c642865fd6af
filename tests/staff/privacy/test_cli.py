"""``helpline privacy erase|purge`` end to end on a migrated SQLite database."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import update

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from staff.privacy.cli import main, parse_age
from bot.settings import Settings
from bot.transcript.models import Conversation, Message
from bot.transcript.store import TranscriptStore
from handoff import Handoff
from handoff.models import Ticket
from tests.staff.privacy.conftest import TRACKER_DDL, Db, find_everywhere, seed_customer


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Settings, Db]]:
    url = f"sqlite:///{tmp_path / 'var' / 'helpline.db'}"
    upgrade(url)
    settings = Settings(home=tmp_path, database_url=url, state_dir=tmp_path / "var")
    tracker = settings.var_dir / "rasa_tracker.db"  # where Rasa keeps it by default
    with sqlite3.connect(tracker) as connection:
        connection.execute(TRACKER_DDL)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(TRACKER_DDL)  # find_everywhere reads it; stays empty here
    sessions = make_session_factory(engine)
    yield settings, Db(url, engine, sessions, TranscriptStore(sessions), Handoff(), tracker)
    engine.dispose()


async def test_erase_with_yes(setup: tuple[Settings, Db], capsys: pytest.CaptureFixture[str]) -> None:
    settings, db = setup
    seeded = await seed_customer(db, time.time())
    assert main(["erase", "--customer", seeded.conversation_id, "--yes"], settings=settings) == 0
    out = capsys.readouterr().out
    assert "conversations erased: 1" in out and "rasa_tracker.events" in out
    assert seeded.conversation_id not in out
    assert find_everywhere(db, [seeded.conversation_id, *seeded.texts]) == []


async def test_purge_with_yes(setup: tuple[Settings, Db], capsys: pytest.CaptureFixture[str]) -> None:
    settings, db = setup
    seeded = await seed_customer(db, time.time() - 400 * 86400)
    old = datetime.now(timezone.utc) - timedelta(days=400)
    with db.sessions.begin() as session:
        session.execute(update(Conversation).values(last_activity_at=old))
        session.execute(update(Message).values(created_at=old))
        session.execute(update(Ticket).values(updated_at=old, version=Ticket.version + 1))
    assert main(["purge", "--older-than", "365d", "--yes"], settings=settings) == 0
    assert "conversations erased: 1" in capsys.readouterr().out
    assert find_everywhere(db, seeded.texts) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["erase", "--customer", "not-an-id", "--yes"], "32 hex"),
        (["erase", "--customer", "0" * 32, "--yes"], "no conversation"),
        (["purge", "--older-than", "a year", "--yes"], "365d"),
        (["purge", "--older-than", "0d", "--yes"], "positive"),
        (["purge", "--older-than", "365d"], "--yes"),  # no terminal to confirm on
        (["purge", "--yes"], "HELPLINE_RETENTION_DAYS"),  # no age given, none configured
    ],
)
def test_refusals_exit_2(
    setup: tuple[Settings, Db], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    settings, _ = setup
    assert main(argv, settings=settings) == 2
    assert message in capsys.readouterr().err


def test_usage_error_exits_2(setup: tuple[Settings, Db]) -> None:
    settings, _ = setup
    assert main(["erase"], settings=settings) == 2
    assert main(["nonsense"], settings=settings) == 2


async def test_declined_confirmation_deletes_nothing(
    setup: tuple[Settings, Db], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, db = setup
    seeded = await seed_customer(db, time.time())
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert main(["erase", "--customer", seeded.conversation_id], settings=settings) == 2
    assert "cancelled" in capsys.readouterr().err
    assert len(find_everywhere(db, seeded.texts)) >= len(seeded.texts)


async def test_purge_defaults_to_the_retention_setting(
    setup: tuple[Settings, Db], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, db = setup
    seeded = await seed_customer(db, time.time())
    ten_days_ago = datetime.now(timezone.utc) - timedelta(days=10)
    with db.sessions.begin() as session:
        session.execute(update(Conversation).values(last_activity_at=ten_days_ago))
        session.execute(update(Message).values(created_at=ten_days_ago))
        session.execute(update(Ticket).values(updated_at=ten_days_ago, version=Ticket.version + 1))
    keep = settings.model_copy(update={"retention_days": 30})
    assert main(["purge", "--yes"], settings=keep) == 0
    assert "conversations erased: 0" in capsys.readouterr().out
    drop = settings.model_copy(update={"retention_days": 7})
    assert main(["purge", "--yes"], settings=drop) == 0
    assert "conversations erased: 1" in capsys.readouterr().out
    assert find_everywhere(db, seeded.texts) == []


def test_parse_age() -> None:
    assert parse_age("365d") == timedelta(days=365)
    assert parse_age("52w") == timedelta(weeks=52)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("30") == timedelta(days=30)
