"""The update handlers, one per module; the order below is the order they are tried."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.channels.telegram.handlers.button_press import button_press_handler
from bot.channels.telegram.handlers.edited_message import edited_message_handler
from bot.channels.telegram.handlers.membership import membership_handler
from bot.channels.telegram.handlers.non_text_message import non_text_message_handler
from bot.channels.telegram.handlers.start_command import start_command_handler
from bot.channels.telegram.handlers.text_message import text_message_handler
from bot.channels.telegram.handlers.unhandled import unhandled_update_handler
from bot.channels.telegram.services import HandlerServices

# What Telegram is asked to send (setWebhook / getUpdates); other kinds never arrive.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def all_handlers(services: HandlerServices) -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        start_command_handler(services),  # before text: "/start" is text too
        text_message_handler(services),
        button_press_handler(services),
        non_text_message_handler(services),
        edited_message_handler(services),
        membership_handler(services),
        unhandled_update_handler(),  # last: sees only what nothing above took
    ]
