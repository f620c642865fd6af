"""Updates no other handler takes (group chats, channel posts, service messages)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.channels.telegram.services import update_kind

logger = logging.getLogger(__name__)


def unhandled_update_handler() -> TypeHandler:  # type: ignore[type-arg]
    async def on_unhandled(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        logger.info(
            "update %s ignored: %s in a %s chat",
            update.update_id, update_kind(update), chat.type if chat else "no",
        )

    return TypeHandler(Update, on_unhandled)
