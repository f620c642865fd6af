"""Stickers, photos, voice notes and other messages without text: a polite notice."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.channels.telegram import notices
from bot.channels.telegram.handlers.chat_filters import NEW_PRIVATE_MESSAGE
from bot.channels.telegram.services import HandlerServices

logger = logging.getLogger(__name__)


def non_text_message_handler(services: HandlerServices) -> MessageHandler:  # type: ignore[type-arg]
    async def on_non_text(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        services.outbox.mark_reachable(chat.id)
        logger.info("update %s: a message without text; sent the text-only notice", update.update_id)
        services.notify(chat.id, notices.TEXT_ONLY)

    # Service messages (a pinned message, an auto-delete timer) are not the customer
    # talking to us; they fall through to the unhandled-update handler.
    return MessageHandler(
        NEW_PRIVATE_MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_non_text
    )
