"""A stored bot or agent message as the Telegram messages that carry it."""

from __future__ import annotations

from bot.channels.telegram import notices
from bot.channels.telegram.keyboards import buttons_of, inline_keyboard
from bot.channels.telegram.outbox import OutgoingText
from bot.channels.telegram.text_split import split_text
from bot.transcript.store import StoredMessage


def telegram_messages(message: StoredMessage) -> list[OutgoingText]:
    """Long text in pieces of at most 4,096; the keyboard goes on the last piece, next
    to the question it answers."""
    keyboard = inline_keyboard(buttons_of(message))
    pieces = split_text(message.text)
    if not pieces:
        if keyboard is None:
            return []
        pieces = [notices.BUTTONS_WITHOUT_TEXT]
    return [OutgoingText(piece) for piece in pieces[:-1]] + [OutgoingText(pieces[-1], keyboard)]
