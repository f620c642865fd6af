"""Bot buttons as inline keyboards, and callback data back to the button pressed.

Telegram carries at most 64 bytes of callback data. A payload that fits is sent as it
is; a longer one (e.g. ``/faq_select{"faq_id": ...}``) is sent as a short digest. The
digest needs no server-side table: a press is resolved against the buttons this
conversation was actually offered, read back from the transcript, which survives a
restart. The same check rejects callback data we never sent (a modified client can send
any bytes), so only offered payloads ever reach the pipeline.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.csat.payloads import is_survey_payload
from bot.transcript.store import StoredMessage

CALLBACK_DATA_LIMIT = 64  # bytes
DIGEST_PREFIX = "~"
# Presses of buttons older than this many messages of the conversation count as unknown.
RECENT_MESSAGES = 50
# Telegram shows at most 8 buttons in a row.
MAX_ROW = 8


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    @classmethod
    def of(cls, raw: dict[str, Any]) -> "Button":
        title = str(raw.get("title") or "")
        payload = str(raw.get("payload") or "")
        # Telegram needs both: a button without payload sends what it says.
        return cls(title=title or payload, payload=payload or title)

    @property
    def callback_data(self) -> str:
        return callback_data_for(self.payload)


def callback_data_for(payload: str) -> str:
    fits = len(payload.encode()) <= CALLBACK_DATA_LIMIT
    if payload and fits and not payload.startswith(DIGEST_PREFIX):
        return payload
    digest = hashlib.sha256(payload.encode()).digest()[:16]
    return DIGEST_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def buttons_of(message: StoredMessage) -> list[Button]:
    return [Button.of(raw) for raw in message.buttons or [] if isinstance(raw, dict)]


def inline_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b.title, callback_data=b.callback_data) for b in buttons]
    if len(keys) <= MAX_ROW and all(is_survey_payload(b.payload) for b in buttons):
        # A survey step (1-5, Yes/No) reads as a scale only side by side.
        return InlineKeyboardMarkup([keys])
    # One per row: FAQ suggestions are whole questions and would be cut off side by side.
    return InlineKeyboardMarkup([[key] for key in keys])


def find_pressed(callback_data: str, recent_messages: Iterable[StoredMessage]) -> Button | None:
    """The offered button this callback data stands for; the newest offer wins."""
    for message in reversed(list(recent_messages)):
        if message.direction != "out":
            continue
        for button in buttons_of(message):
            if button.callback_data == callback_data:
                return button
    return None
