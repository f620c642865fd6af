"""The secret key behind signed ids and the Rasa channel token."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.settings import Settings


def secret_key(settings: Settings) -> str:
    """HELPLINE_SECRET_KEY, or a random key created once in var/secret_key.

    The embedded default must work on a fresh machine without configuration, yet ids
    signed before a restart must still verify after it, so the key is kept on disk.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create exclusively with owner-only permissions; a concurrent creator wins the race.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def derive(key: str, purpose: str) -> str:
    """A separate secret for each purpose, so leaking one does not leak the others."""
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def rasa_token(settings: Settings) -> str:
    return derive(secret_key(settings), "rasa-channel-token")


def ensure_var_dir(settings: Settings) -> Path:
    path: Path = settings.var_dir
    path.mkdir(parents=True, exist_ok=True)
    return path
