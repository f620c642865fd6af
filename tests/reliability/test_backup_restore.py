"""Backup and restore drill: back up a live system under load, restore into a fresh
database, find every conversation, message, ticket and audit row that existed when the
backup started (SQLite always; PostgreSQL where TEST_DATABASE_URL points).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Iterator

import anyio.to_thread
import pytest
from sqlalchemy import create_engine, text

from bot.backup import BackupError, backup, libpq_url, restore, row_counts
from bot.db import make_engine, make_session_factory
from staff.auth.audit import record
from tests.gateway_harness import ChatClient, running_gateway
from tests.reliability.limits import no_chat_limits

KEYED_TABLES = {"conversations": "id", "messages": "id", "tickets": "id", "audit_log": "id"}


def ids(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: {str(row[0]) for row in connection.execute(text(f"SELECT {key} FROM {table}"))}
                for table, key in KEYED_TABLES.items()
            }
    finally:
        engine.dispose()


@pytest.fixture
def fresh_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'helpline.db'}"
        return
    from sqlalchemy.engine import make_url

    base = make_url(database_url)
    name = f"helpline_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def customer_load(url: str, index: int, stop: asyncio.Event, answered: list[str]) -> None:
    client = ChatClient()
    await client.connect(url)
    turn = 0
    try:
        while not stop.is_set():
            # Every fourth customer asks for a person once: a ticket and its events.
            text_ = "human please" if index % 4 == 0 and turn == 1 else f"c{index} m{turn}"
            ack = await client.say(text_, message_id=f"{index}-{turn}")
            assert ack["status"] == "stored"
            await client.next_of("bot_uttered", timeout=15)
            answered.append(text_)
            turn += 1
    finally:
        await client.close()


async def test_backup_of_a_live_system_restores_every_row(
    tmp_path: Path, database_url: str, fresh_target: str
) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    stop = asyncio.Event()
    answered: list[str] = []

    def audit_rows() -> None:
        # Staff actions are audited while customers write.
        for n in range(40):
            with sessions.begin() as session:
                record(session, "drill.event", target_type="drill", target_id=n)

    async with running_gateway(tmp_path, database_url, extra_settings=no_chat_limits()) as gateway:
        load = [asyncio.create_task(customer_load(gateway.url, i, stop, answered)) for i in range(8)]
        auditing = asyncio.create_task(anyio.to_thread.run_sync(audit_rows))
        while len(answered) < 40:
            await asyncio.sleep(0.05)
        before = ids(database_url)
        output = tmp_path / ("helpline.sqlite3" if database_url.startswith("sqlite") else "helpline.dump")
        result = await anyio.to_thread.run_sync(backup, database_url, output)
        after = ids(database_url)
        answered_at_backup = len(answered)
        while len(answered) < answered_at_backup + 20:  # the system kept serving
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*load)
        await auditing
    engine.dispose()

    assert result.size_bytes > 0
    await anyio.to_thread.run_sync(restore, output, fresh_target)
    restored = ids(fresh_target)
    assert before["tickets"], "the load opened no ticket: the drill would prove nothing for tickets"
    for table in KEYED_TABLES:
        # Everything that existed when the backup began is there; nothing that came
        # after the backup ended is (one consistent snapshot).
        assert before[table] <= restored[table], table
        assert restored[table] <= after[table], table
    counts = row_counts(fresh_target)
    assert counts["messages"] == len(restored["messages"])
    # The restored database is one snapshot: every reply's question is in it.
    check = create_engine(fresh_target)
    with check.connect() as connection:
        orphans = connection.execute(text(
            "SELECT count(*) FROM messages m WHERE m.reply_to_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM messages q WHERE q.id = m.reply_to_id)"
        )).scalar_one()
        texts = {row[0] for row in connection.execute(text("SELECT text FROM messages WHERE direction = 'in'"))}
    check.dispose()
    assert orphans == 0
    assert "human please" in texts


def test_restore_refuses_a_target_that_holds_data(tmp_path: Path, database_url: str) -> None:
    output = tmp_path / "backup.bin"
    backup(database_url, output)
    with pytest.raises(BackupError, match="exists|not empty"):
        restore(output, database_url)


def test_libpq_url_drops_the_driver() -> None:
    assert libpq_url("postgresql+psycopg://postgres@127.0.0.1:5432/test") == "postgresql://postgres@127.0.0.1:5432/test"
