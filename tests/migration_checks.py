"""Compare a package's models with the schema the migrations built (used by the
migration tests of each package that owns tables)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from bot.db import make_engine


def schema_differences(url: str, metadata: MetaData) -> list[object]:
    """What autogenerate would change for ``metadata``'s tables; other packages' tables in
    the same database are theirs to check."""
    ours = set(metadata.tables)

    def include(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
        if type_ == "schema":
            return True
        if type_ == "table":
            return name in ours
        return parents.get("table_name") in ours

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
