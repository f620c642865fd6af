"""Migration 0004 creates exactly the tables bot/review and bot/csat declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from bot.csat.models import CsatBase
from bot.db import make_engine
from bot.migrate import downgrade, upgrade
from bot.review.models import ReviewBase

METADATA = (ReviewBase.metadata, CsatBase.metadata)
TABLES = {name for metadata in METADATA for name in metadata.tables}


def _differences(url: str, metadata: MetaData) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            ours = set(metadata.tables)

            def include(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
                if type_ == "schema":
                    return True
                if type_ == "table":
                    return name in ours
                return parents.get("table_name") in ours

            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    assert TABLES <= _tables(url)
    for metadata in METADATA:
        assert _differences(url, metadata) == []
    downgrade(url, "0003")
    assert not TABLES & _tables(url)
    upgrade(url)
    assert TABLES <= _tables(url)


def test_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    for metadata in METADATA:
        assert _differences(postgres_url, metadata) == []
