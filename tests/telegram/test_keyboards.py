"""Buttons as inline keyboards; callback data within 64 bytes; presses resolved safely."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.channels.telegram.keyboards import (
    CALLBACK_DATA_LIMIT,
    Button,
    buttons_of,
    callback_data_for,
    find_pressed,
    inline_keyboard,
)
from bot.transcript.store import StoredMessage

LONG = '/faq_select{"faq_id":"returns.how-do-i-return-an-item-bought-with-a-gift-card"}'


def bot_message(buttons: list[dict[str, Any]], message_id: int = 1) -> StoredMessage:
    return StoredMessage(
        id=message_id, conversation_id="c", channel="telegram", direction="out", author="bot",
        text="Pick one", status="sent", created_at=datetime.now(timezone.utc), buttons=buttons,
    )


def test_short_payloads_travel_as_they_are_and_long_ones_as_a_digest() -> None:
    assert callback_data_for("/affirm") == "/affirm"
    digest = callback_data_for(LONG)
    assert len(LONG.encode()) > CALLBACK_DATA_LIMIT
    assert digest.startswith("~") and len(digest.encode()) <= CALLBACK_DATA_LIMIT
    assert callback_data_for(LONG) == digest  # stable: survives a restart
    # Multi-byte characters count in bytes, and a payload that looks like a digest is
    # digested too, so the two forms cannot be confused.
    assert len(callback_data_for("/feedback" + "é" * 30).encode()) <= CALLBACK_DATA_LIMIT
    assert callback_data_for("~abc") != "~abc"


def test_keyboard_has_one_button_per_row_and_fills_missing_fields() -> None:
    keyboard = inline_keyboard([Button("Yes", "/affirm"), Button.of({"title": "Other", "payload": ""})])
    assert keyboard is not None
    rows = keyboard.to_dict()["inline_keyboard"]
    assert rows == [
        [{"text": "Yes", "callback_data": "/affirm"}],
        [{"text": "Other", "callback_data": "Other"}],
    ]
    assert inline_keyboard([]) is None


def test_a_press_resolves_only_to_a_button_that_was_offered() -> None:
    offered = [bot_message([{"title": "Cancel", "payload": LONG}, {"title": "No", "payload": "/deny"}])]
    assert find_pressed(callback_data_for(LONG), offered) == Button("Cancel", LONG)
    assert find_pressed("/deny", offered) == Button("No", "/deny")
    assert find_pressed("/request_human", offered) is None  # never offered: rejected
    assert find_pressed("~forged", offered) is None
    customer = StoredMessage(**{**bot_message([{"title": "X", "payload": "/x"}]).__dict__, "direction": "in"})
    assert find_pressed("/x", [customer]) is None  # only the bot's buttons count
    assert buttons_of(bot_message([{"title": "ok", "payload": "/ok"}, "junk"])) == [Button("ok", "/ok")]  # type: ignore[list-item]
