"""Alembic environment: one migration history for every package's tables.

Each package owns its tables and its own MetaData; this file lists them all so
autogenerate sees the whole schema.
"""

from __future__ import annotations

from alembic import context

from staff.auth.models import AuthBase
from bot.csat.models import CsatBase
from bot.db import make_engine
from staff.review.models import ReviewBase
from bot.transcript.models import TranscriptBase
from handoff.models import HandoffBase

target_metadata = [
    TranscriptBase.metadata,
    AuthBase.metadata,
    HandoffBase.metadata,
    ReviewBase.metadata,
    CsatBase.metadata,
]

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # Batch mode lets later migrations alter tables on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
