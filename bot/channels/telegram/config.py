"""What the Telegram channel needs to know, as plain values.

The composition root (bot/app.py) maps the settings object onto this, so the channel
does not read settings itself and tests can build it directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.secrets import derive

Mode = Literal["webhook", "polling"]

DEFAULT_API_URL = "https://api.telegram.org"
WEBHOOK_PATH = "/telegram/webhook"

# Telegram accepts 1-256 characters from this set in X-Telegram-Bot-Api-Secret-Token.
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramConfigError(ValueError):
    """The Telegram settings cannot work; the message names the setting to fix."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    mode: Mode = "polling"
    # Full public HTTPS URL Telegram posts updates to (ends in WEBHOOK_PATH); webhook mode only.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Where the Bot API lives; tests point this at their fake server.
    api_url: str = DEFAULT_API_URL
    # Same limit as the web channel: longer customer messages are refused politely.
    max_message_chars: int = 4000
    # Telegram: about one message a second per chat, about 30 a second overall.
    per_chat_interval_seconds: float = 1.0
    messages_per_second: float = 30.0
    # Long-poll wait per getUpdates call; Telegram answers earlier when an update arrives.
    poll_timeout_seconds: int = 30
    # Telegram's default; 1 would make webhook delivery strictly sequential (and slow).
    webhook_max_connections: int = 40

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise TelegramConfigError("TELEGRAM_BOT_TOKEN is empty")
        if self.mode not in ("webhook", "polling"):
            raise TelegramConfigError(f"TELEGRAM_MODE must be webhook or polling, not {self.mode!r}")
        if self.mode == "webhook":
            if not self.webhook_url:
                raise TelegramConfigError(
                    "TELEGRAM_WEBHOOK_URL is required in webhook mode "
                    f"(the public https URL of {WEBHOOK_PATH})"
                )
            if not self.webhook_secret or not _SECRET_TOKEN.match(self.webhook_secret):
                raise TelegramConfigError(
                    "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
                )

    @property
    def bot_api_base_url(self) -> str:
        """python-telegram-bot's base_url: it appends the token to this."""
        return f"{self.api_url.rstrip('/')}/bot"


def derive_webhook_secret(secret_key: str) -> str:
    """A webhook secret from Helpline's secret key, for when none is configured.

    Hex only, so it is always a valid Telegram secret token; a separate derivation so
    that knowing it reveals nothing about the key or its other uses.
    """
    return derive(secret_key, "telegram-webhook-secret")
