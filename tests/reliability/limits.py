"""Load from the harness comes from one IP (127.0.0.1): the public chat's per-IP and
per-connection limits (bot/settings.py) would refuse most of it. Reliability runs switch
them off, naming only the fields this checkout has."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings

_LIMIT_FIELDS = ("chat_messages_per_conversation", "chat_messages_per_ip", "chat_new_conversations_per_ip")


def no_chat_limits() -> dict[str, Any]:
    return {name: 0 for name in _LIMIT_FIELDS if name in Settings.model_fields}


def no_chat_limits_env() -> dict[str, str]:
    return {f"HELPLINE_{name.upper()}": "0" for name in no_chat_limits()}
