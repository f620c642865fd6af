"""Database engine and session factory (SQLAlchemy 2.0, sync driver).

The gateway is async but uses the sync driver through worker threads (see
bot/transcript/store.py): one code path serves the CLI, Alembic, tests and the
gateway, and SQLite (the embedded default) has no mature async driver with WAL support.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar

import anyio.to_thread
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Error messages would otherwise quote bound parameters, i.e. customers' texts.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (supervisor pages) run while the gateway writes; foreign keys are
    # off by default in SQLite and our cascade rules rely on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


async def in_transaction(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction on a worker thread, so the event loop never waits
    for the database; commits on success, rolls back on error."""

    def in_thread() -> T:
        with sessions.begin() as session:
            return work(session)

    return await anyio.to_thread.run_sync(in_thread)
