"""What the update handlers share: the way into the pipeline and the way out to chats."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from bot.channels.telegram.directory import CHANNEL, ChatDirectory
from bot.channels.telegram.outbox import OutgoingText, TelegramOutbox
from bot.pipeline import Inbound, MessagePipeline
from bot.transcript.store import InboundResult, TranscriptStore


@dataclass(frozen=True)
class HandlerServices:
    pipeline: MessagePipeline
    store: TranscriptStore
    directory: ChatDirectory
    outbox: TelegramOutbox
    max_message_chars: int

    async def accept(self, chat_id: int, text: str, client_message_id: str) -> InboundResult:
        """Store the customer's text and queue its answer; returns once it is stored.

        The client id makes a re-delivered update a duplicate (unique per conversation),
        so it is stored and answered once.
        """
        conversation_id = await self.directory.conversation_for(chat_id)
        return await self.pipeline.accept(Inbound(conversation_id, CHANNEL, text, client_message_id))

    def notify(self, chat_id: int, text: str) -> None:
        """A notice of our own, queued behind earlier messages to the chat."""
        self.outbox.send_soon(chat_id, [OutgoingText(text)])


def message_client_id(update: Update) -> str:
    """The de-duplication key of a customer message: its Telegram message id.

    Unique in its chat (so in its conversation) for good, and the same when Telegram
    re-delivers the update. The update id would do for re-deliveries, but Telegram may
    restart update ids at random after a week without updates.
    """
    message = update.effective_message
    return f"tg-msg-{message.message_id}" if message else f"tg-{update.update_id}"


def update_kind(update: Update) -> str:
    """Which kind of update this is, for logs (never its content)."""
    return next((str(kind) for kind in Update.ALL_TYPES if getattr(update, kind, None)), "empty")
