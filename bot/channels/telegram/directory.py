"""Which conversation a Telegram chat is, and which chat a conversation is.

A chat becomes a conversation through ``TranscriptStore.open_conversation("telegram",
str(chat_id))`` (unique on channel and external id). Both directions are cached; the
way back (needed to deliver an answer or an agent's message) asks the store for the
conversation's external id when the chat has not written since this process started.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.transcript.store import TranscriptStore

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
CACHE_SIZE = 50_000

K = TypeVar("K")
V = TypeVar("V")

ExternalIdLookup = Callable[[str], Awaitable[str | None]]


class _Recent(Generic[K, V]):
    """A dict that forgets the least recently used entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class ChatDirectory:
    def __init__(
        self,
        store: TranscriptStore,
        external_id_of: ExternalIdLookup | None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._store = store
        self._external_id_of = external_id_of
        self._conversation_of_chat: _Recent[int, str] = _Recent(cache_size)
        self._chat_of_conversation: _Recent[str, int] = _Recent(cache_size)

    async def conversation_for(self, chat_id: int) -> str:
        known = self._conversation_of_chat.get(chat_id)
        if known is not None:
            return known
        conversation_id = await self._store.open_conversation(CHANNEL, str(chat_id))
        self._remember(chat_id, conversation_id)
        return conversation_id

    async def chat_for(self, conversation_id: str) -> int | None:
        known = self._chat_of_conversation.get(conversation_id)
        if known is not None:
            return known
        if self._external_id_of is None:
            return None
        external_id = await self._external_id_of(conversation_id)
        if external_id is None:
            return None
        try:
            chat_id = int(external_id)
        except ValueError:
            logger.error("conversation %s has a non-numeric Telegram chat id", conversation_id)
            return None
        self._remember(chat_id, conversation_id)
        return chat_id

    def _remember(self, chat_id: int, conversation_id: str) -> None:
        self._conversation_of_chat.put(chat_id, conversation_id)
        self._chat_of_conversation.put(conversation_id, chat_id)
