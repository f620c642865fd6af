"""Customers on Telegram, through python-telegram-bot (Rasa's own channel is not used).

Integration (bot/app.py): ``build_telegram_channel(config, store, pipeline)`` returns a
``TelegramChannel`` already registered with the pipeline; include its ``router`` in the
FastAPI app, ``await start()`` in the lifespan, ``await stop()`` after the pipeline has
drained. See docs/telegram.md.
"""

from bot.channels.telegram.build import build_telegram_channel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import (
    DEFAULT_API_URL,
    WEBHOOK_PATH,
    TelegramConfig,
    TelegramConfigError,
    derive_webhook_secret,
)

__all__ = [
    "DEFAULT_API_URL",
    "WEBHOOK_PATH",
    "TelegramChannel",
    "TelegramConfig",
    "TelegramConfigError",
    "build_telegram_channel",
    "derive_webhook_secret",
]
