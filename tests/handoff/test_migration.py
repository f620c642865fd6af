"""Migration 0003 creates exactly the tables handoff/models.py declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import make_engine
from bot.migrate import downgrade, upgrade
from handoff import HandoffBase

HANDOFF_TABLES = set(HandoffBase.metadata.tables)


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": _ours}
            )
            return list(compare_metadata(context, HandoffBase.metadata))
    finally:
        engine.dispose()


def _ours(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    # Other packages' tables in the same database are theirs to check.
    if type_ == "schema":
        return True
    if type_ == "table":
        return name in HANDOFF_TABLES
    return parent_names.get("table_name") in HANDOFF_TABLES


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    assert HANDOFF_TABLES <= _tables(url)
    assert _differences(url) == []
    downgrade(url, "0002")
    assert not HANDOFF_TABLES & _tables(url)
    upgrade(url)
    assert HANDOFF_TABLES <= _tables(url)


def test_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    assert _differences(postgres_url) == []
