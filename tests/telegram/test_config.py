"""Settings that cannot work are refused with the setting's name."""

from __future__ import annotations

import re

import pytest

from bot.channels.telegram import TelegramConfig, TelegramConfigError, derive_webhook_secret


def test_webhook_mode_needs_a_url_and_a_valid_secret() -> None:
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_URL"):
        TelegramConfig(token="1:a", mode="webhook", webhook_secret="s")
    for secret in (None, "", "has space", "x" * 257):
        with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
            TelegramConfig(token="1:a", mode="webhook", webhook_url="https://h/telegram/webhook", webhook_secret=secret)
    with pytest.raises(TelegramConfigError, match="TELEGRAM_MODE"):
        TelegramConfig(token="1:a", mode="push")  # type: ignore[arg-type]
    with pytest.raises(TelegramConfigError, match="TELEGRAM_BOT_TOKEN"):
        TelegramConfig(token=" ")
    assert TelegramConfig(token="1:a").mode == "polling"  # development needs no public URL


def test_derived_secret_is_a_valid_telegram_secret_and_stable() -> None:
    secret = derive_webhook_secret("helpline-key")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
    assert secret == derive_webhook_secret("helpline-key") != derive_webhook_secret("other")
    assert TelegramConfig(token="1:a", api_url="http://127.0.0.1:9/").bot_api_base_url == "http://127.0.0.1:9/bot"
