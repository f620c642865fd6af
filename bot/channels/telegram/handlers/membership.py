"""The customer blocked or unblocked the bot (Telegram's ``my_chat_member`` update)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ChatMemberHandler, ContextTypes

from bot.channels.telegram.services import HandlerServices

logger = logging.getLogger(__name__)

_GONE = {ChatMember.BANNED, ChatMember.LEFT}


def membership_handler(services: HandlerServices) -> ChatMemberHandler:  # type: ignore[type-arg]
    async def on_membership(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        assert change is not None
        chat_id = change.chat.id
        if change.new_chat_member.status in _GONE:
            # Saves a doomed send (and its 403) for every queued or future message.
            services.outbox.mark_unreachable(chat_id)
            logger.info("chat %s blocked the bot", chat_id)
        else:
            services.outbox.mark_reachable(chat_id)
            logger.info("chat %s unblocked the bot", chat_id)

    return ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
