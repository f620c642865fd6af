"""Migration 0003 creates exactly the tables handoff/models.py declares."""

from __future__ import annotations

from pathlib import Path

from bot.migrate import downgrade, upgrade
from handoff import HandoffBase
from tests.migration_checks import schema_differences, table_names

HANDOFF_TABLES = set(HandoffBase.metadata.tables)


def _differences(url: str) -> list[object]:
    return schema_differences(url, HandoffBase.metadata)


_tables = table_names


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
