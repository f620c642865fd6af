"""``/start``: the first thing every Telegram customer sends; greets them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.channels.telegram.handlers.chat_filters import NEW_PRIVATE_MESSAGE
from bot.channels.telegram.services import HandlerServices, message_client_id

# A button payload the pipeline lets through, so Rasa greets the customer as it would
# on the web instead of guessing what the word "start" means.
GREETING_PAYLOAD = "/greet"


def start_command_handler(services: HandlerServices) -> CommandHandler:  # type: ignore[type-arg]
    async def on_start(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None  # the filter admits private messages only
        services.outbox.mark_reachable(chat.id)
        # A deep-link argument ("/start campaign") is not used: it is not the customer's words.
        await services.accept(chat.id, GREETING_PAYLOAD, message_client_id(update))

    return CommandHandler("start", on_start, filters=NEW_PRIVATE_MESSAGE)
