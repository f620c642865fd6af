"""An edit of a message already sent: not re-answered; the customer is told so."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler

from bot.channels.telegram import notices
from bot.channels.telegram.handlers.chat_filters import EDITED_PRIVATE_MESSAGE
from bot.channels.telegram.services import HandlerServices

logger = logging.getLogger(__name__)


def edited_message_handler(services: HandlerServices) -> MessageHandler:  # type: ignore[type-arg]
    async def on_edit(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        # The original was stored and answered; answering the edit as a new question
        # would reorder the conversation, and replacing the stored text would falsify it.
        logger.info("update %s: an edited message; sent the edits notice", update.update_id)
        services.notify(chat.id, notices.EDITS_NOT_READ)

    return MessageHandler(EDITED_PRIVATE_MESSAGE, on_edit)
