"""Training and starting the Rasa server from the app environment.

Rasa lives in its own Python 3.10 environment, so it is driven as a subprocess. Its
endpoints file is rendered from the settings object (the committed endpoints.yml is the
template), which keeps every address and credential in one typed place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from bot.secrets import rasa_token
from bot.settings import Settings

logger = logging.getLogger(__name__)

MODEL_NAME = "helpline"
# What Rasa trains on; data/faq (the knowledge base) and data/faq_eval are not Rasa data.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data/nlu", "data/rules")


def training_fingerprint(home: Path) -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = home / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(home)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def model_path(settings: Settings) -> Path:
    return settings.path(settings.rasa_model_dir) / f"{MODEL_NAME}.tar.gz"


def train_if_changed(settings: Settings, *, force: bool = False) -> bool:
    """Train the Rasa model unless one exists for exactly this data. True if trained."""
    home = settings.home
    model = model_path(settings)
    stamp = model.with_suffix(".fingerprint")
    fingerprint = training_fingerprint(home)
    if not force and model.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        logger.info("Rasa model is up to date (%s)", model)
        return False
    logger.info("training the Rasa model (data changed)…")
    command = [
        str(settings.path(settings.rasa_executable)), "train",
        "--config", "config.yml", "--domain", "domain.yml",
        "--data", *[name for name in TRAINING_INPUTS if name.startswith("data/")],
        "--out", str(model.parent), "--fixed-model-name", MODEL_NAME,
    ]
    subprocess.run(command, cwd=home, check=True, env=rasa_environment(settings))
    stamp.write_text(fingerprint)
    return True


def tracker_store_environment(settings: Settings) -> dict[str, str]:
    """Rasa's SQL tracker store beside the app's tables (same server, own table)."""
    url = settings.database_url
    if url.startswith("sqlite"):
        return {
            "HELPLINE_RASA_TRACKER_DIALECT": "sqlite",
            "HELPLINE_RASA_TRACKER_HOST": "",
            "HELPLINE_RASA_TRACKER_DB": str(settings.var_dir / "rasa_tracker.db"),
        }
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return {
        "HELPLINE_RASA_TRACKER_DIALECT": "postgresql",
        "HELPLINE_RASA_TRACKER_HOST": host,
        "HELPLINE_RASA_TRACKER_DB": (parts.path or "/").lstrip("/") or "postgres",
        "HELPLINE_RASA_TRACKER_PORT": str(parts.port or 5432),
        "HELPLINE_RASA_TRACKER_USER": parts.username or "",
        "HELPLINE_RASA_TRACKER_PASSWORD": parts.password or "",
    }


def render_endpoints(settings: Settings) -> Path:
    """endpoints.yml plus what only some deployments have (PostgreSQL login, Redis lock)."""
    text = (settings.home / "endpoints.yml").read_text()
    if not settings.database_url.startswith("sqlite"):
        text += (
            "  port: ${HELPLINE_RASA_TRACKER_PORT}\n"
            "  username: ${HELPLINE_RASA_TRACKER_USER}\n"
            "  password: ${HELPLINE_RASA_TRACKER_PASSWORD}\n"
        )
    if settings.redis_url:
        parts = urlsplit(settings.redis_url)
        text += (
            "\nlock_store:\n  type: redis\n"
            f"  url: {parts.hostname or '127.0.0.1'}\n  port: {parts.port or 6379}\n"
            f"  db: {(parts.path or '/0').lstrip('/') or 0}\n"
        )
    target = settings.var_dir / "rasa" / "endpoints.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def rasa_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(tracker_store_environment(settings))
    env.update(
        {
            "HELPLINE_RASA_TOKEN": rasa_token(settings),
            "HELPLINE_ACTION_SERVER_URL": settings.effective_action_server_url,
            # Rasa phones home and checks for updates by default; this machine is offline.
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(settings.home),
        }
    )
    if settings.redis_url:
        # Rasa's ticket lock of a conversation outlives a killed Rasa server by this long
        # (default 60 s); the gateway moves the conversation to another server at once,
        # so a short lease keeps it from waiting on the dead one. A turn takes ~50 ms.
        env["TICKET_LOCK_LIFETIME"] = "5"
    return env


def server_command(settings: Settings) -> list[str]:
    return [
        str(settings.path(settings.rasa_executable)), "run",
        "--model", str(model_path(settings)),
        "--endpoints", str(render_endpoints(settings)),
        "--credentials", "credentials.yml",
        "--port", str(settings.rasa_port),
        "--interface", "127.0.0.1",
    ]
