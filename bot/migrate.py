"""Apply Alembic migrations programmatically (``helpline migrate``, setup, tests)."""

from __future__ import annotations

import logging
from importlib.resources import files

from alembic import command
from alembic.config import Config

logger = logging.getLogger(__name__)


def alembic_config(sqlalchemy_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("bot") / "migrations"))
    # "%" is ConfigParser's interpolation marker; passwords may contain it.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    if sqlalchemy_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(sqlalchemy_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(sqlalchemy_url), revision)


def downgrade(sqlalchemy_url: str, revision: str) -> None:
    command.downgrade(alembic_config(sqlalchemy_url), revision)
