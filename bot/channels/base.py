"""What every customer channel (web chat, Telegram) offers the message pipeline."""

from __future__ import annotations

from typing import Protocol

from bot.transcript.store import StoredMessage


class CustomerChannel(Protocol):
    """Delivers stored messages to a customer on the channel they came from.

    Delivery can happen at any time, not only as a reply (agent messages, queue updates),
    so a channel addresses the customer by conversation id, never by a request object.
    """

    name: str

    async def deliver(self, conversation_id: str, messages: list[StoredMessage]) -> None: ...
