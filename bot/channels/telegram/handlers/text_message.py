"""A customer's text message: stored, then answered by the pipeline."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.channels.telegram import notices
from bot.channels.telegram.handlers.chat_filters import NEW_PRIVATE_MESSAGE
from bot.channels.telegram.services import HandlerServices, message_client_id

logger = logging.getLogger(__name__)


def text_message_handler(services: HandlerServices) -> MessageHandler:  # type: ignore[type-arg]
    async def on_text(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        assert chat is not None and message is not None and message.text is not None
        services.outbox.mark_reachable(chat.id)
        text = message.text
        if len(text) > services.max_message_chars:
            logger.info("update %s refused: %d characters", update.update_id, len(text))
            services.notify(chat.id, notices.too_long(len(text), services.max_message_chars))
            return
        result = await services.accept(chat.id, text, message_client_id(update))
        if result.duplicate:
            # Telegram re-delivered an update we stored: its answer is already on its way.
            logger.info("update %s already stored as message %s", update.update_id, result.message.id)

    return MessageHandler(NEW_PRIVATE_MESSAGE & filters.TEXT, on_text)
