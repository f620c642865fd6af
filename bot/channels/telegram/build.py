"""One call that builds the Telegram channel and registers it with the pipeline."""

from __future__ import annotations

import logging

from telegram.ext import Application, ApplicationBuilder

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import TelegramConfig
from bot.channels.telegram.directory import CHANNEL, ChatDirectory, ExternalIdLookup
from bot.channels.telegram.handlers import all_handlers
from bot.channels.telegram.intake import UpdateIntake
from bot.channels.telegram.outbox import TelegramOutbox
from bot.channels.telegram.services import HandlerServices
from bot.channels.telegram.throttle import SendThrottle
from bot.coordination.lease import LeaderLease
from bot.pipeline import MessagePipeline
from bot.ratelimit import ChatFloodGuard
from bot.transcript.store import TranscriptStore

logger = logging.getLogger(__name__)


def build_telegram_application(config: TelegramConfig) -> Application:  # type: ignore[type-arg]
    """python-telegram-bot's Application, used to route updates to handlers only.

    No Updater (polling.py confirms updates only once stored) and no JobQueue; nothing
    touches the network until the channel starts.
    """
    return (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.bot_api_base_url)
        .updater(None)
        .job_queue(None)
        .build()
    )


def build_telegram_channel(
    config: TelegramConfig, store: TranscriptStore, pipeline: MessagePipeline,
    flood: ChatFloodGuard | None = None, leader: LeaderLease | None = None,
) -> TelegramChannel:
    application = build_telegram_application(config)
    outbox = TelegramOutbox(
        application.bot, SendThrottle(config.per_chat_interval_seconds, config.messages_per_second)
    )
    directory = ChatDirectory(store, _external_id_lookup(store))
    services = HandlerServices(pipeline, store, directory, outbox, config.max_message_chars)
    application.add_handlers(all_handlers(services))
    channel = TelegramChannel(
        config, application, UpdateIntake(application, flood, services.notify, leader), directory, outbox,
        store.mark_undelivered,
    )
    pipeline.register_channel(channel)
    return channel


def _external_id_lookup(store: TranscriptStore) -> ExternalIdLookup | None:
    """How to find the chat of a conversation that has not written since start-up (an
    answer resumed after a restart, an agent's message): ``TranscriptStore.conversation``.
    Without it such deliveries are logged and skipped."""
    find_conversation = getattr(store, "conversation", None)
    if find_conversation is None:
        logger.warning(
            "TranscriptStore.conversation is missing: Telegram chats that have not written "
            "since start-up cannot receive messages"
        )
        return None

    async def external_id(conversation_id: str) -> str | None:
        row = await find_conversation(conversation_id)
        # Only a Telegram conversation's external id is a chat id.
        return row.external_id if row is not None and row.channel == CHANNEL else None

    return external_id
