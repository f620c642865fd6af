"""A pressed inline button: its payload goes to the pipeline like a typed message.

The callback is always answered (the customer's app shows a spinner until it is). A
press is accepted only for a button this conversation was offered (see keyboards.py);
anything else gets a short notice and goes no further.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.channels.telegram import notices
from bot.channels.telegram.keyboards import RECENT_MESSAGES, Button, find_pressed
from bot.channels.telegram.services import HandlerServices
from bot.channels.telegram.text_split import TELEGRAM_TEXT_LIMIT, utf16_length

logger = logging.getLogger(__name__)

CHOICE_MARK = "\n\n\u2714 "  # heavy check mark: shows the customer what they chose


def press_client_id(update: Update, pressed: Message | None) -> str:
    """One answer per keyboard: a double tap, or a second button of the same keyboard
    pressed before it disappeared, is a duplicate rather than a second question."""
    if pressed is None:
        return f"tg-{update.update_id}"
    return f"tg-press-{pressed.message_id}"


def text_with_choice(pressed: Message, button: Button) -> str | None:
    if not pressed.text:
        return None
    text = f"{pressed.text}{CHOICE_MARK}{button.title}"
    return text if utf16_length(text) <= TELEGRAM_TEXT_LIMIT else None


def button_press_handler(services: HandlerServices) -> CallbackQueryHandler:  # type: ignore[type-arg]
    async def on_press(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE or not query.data:
            # Inline-mode or game callbacks, or a message too old for Telegram to name
            # its chat: none of them is a customer's answer to our buttons.
            logger.info("update %s: button press without a private chat ignored", update.update_id)
            services.outbox.answer_callback_soon(query.from_user.id, query.id, notices.UNKNOWN_BUTTON)
            return
        services.outbox.mark_reachable(chat.id)
        conversation_id = await services.directory.conversation_for(chat.id)
        offered = await services.store.history(conversation_id, limit=RECENT_MESSAGES)
        button = find_pressed(query.data, offered)
        if button is None:
            logger.info(
                "update %s: unknown button data in conversation %s ignored",
                update.update_id, conversation_id,
            )
            services.outbox.answer_callback_soon(chat.id, query.id, notices.UNKNOWN_BUTTON)
            return
        pressed = query.message if isinstance(query.message, Message) else None
        result = await services.accept(chat.id, button.payload, press_client_id(update, pressed))
        services.outbox.answer_callback_soon(chat.id, query.id)
        if result.duplicate:
            logger.info("update %s: this keyboard was already answered", update.update_id)
            return
        if pressed is not None:
            services.outbox.clear_keyboard_soon(
                chat.id, pressed.message_id, text_with_choice(pressed, button)
            )

    return CallbackQueryHandler(on_press)
