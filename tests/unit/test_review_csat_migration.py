"""Migration 0004 creates exactly the tables staff/review and bot/csat declare."""

from __future__ import annotations

from pathlib import Path

from bot.csat.models import CsatBase
from bot.migrate import downgrade, upgrade
from staff.review.models import ReviewBase
from tests.migration_checks import schema_differences, table_names

METADATA = (ReviewBase.metadata, CsatBase.metadata)
TABLES = {name for metadata in METADATA for name in metadata.tables}


def test_migration_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    assert TABLES <= table_names(url)
    for metadata in METADATA:
        assert schema_differences(url, metadata) == []
    downgrade(url, "0003")
    assert not TABLES & table_names(url)
    upgrade(url)
    assert TABLES <= table_names(url)


def test_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    for metadata in METADATA:
        assert schema_differences(postgres_url, metadata) == []
