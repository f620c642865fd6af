"""Pacing outgoing calls to Telegram's limits before Telegram has to say 429.

Telegram allows about one message a second in a chat and about thirty a second across
all chats. Each call reserves the next free slot synchronously (no await between reading
and writing the schedule), so concurrent senders never take the same slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class SendThrottle:
    def __init__(self, per_chat_interval: float, per_second: float) -> None:
        self._chat_interval = per_chat_interval
        self._global_interval = 1.0 / per_second if per_second > 0 else 0.0
        self._chat_next: dict[Hashable, float] = {}
        self._global_next = 0.0

    async def wait_turn(self, chat: Hashable, *, counts_for_chat: bool = True) -> None:
        """Sleep until this chat and the bot as a whole may send again.

        Edits and callback answers are not new messages in the chat, so they pass
        ``counts_for_chat=False`` and take only a slot of the overall budget.
        """
        loop = asyncio.get_running_loop()
        if counts_for_chat:
            chat_at = max(loop.time(), self._chat_next.get(chat, 0.0))
            self._chat_next[chat] = chat_at + self._chat_interval
            await asyncio.sleep(max(0.0, chat_at - loop.time()))
        # The overall slot is taken only once the chat may send, so a chat waiting for
        # its own turn does not hold back the others.
        now = loop.time()
        global_at = max(now, self._global_next)
        self._global_next = global_at + self._global_interval
        await asyncio.sleep(max(0.0, global_at - now))
        self._forget_idle(loop.time())

    def hold_chat(self, chat: Hashable, seconds: float) -> None:
        """Telegram asked us (429 retry_after) to leave this chat alone for a while."""
        loop = asyncio.get_running_loop()
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), loop.time() + seconds)

    def _forget_idle(self, now: float) -> None:
        # Keeps the schedule from growing with every chat ever served.
        if len(self._chat_next) > 1024:
            for chat in [c for c, at in self._chat_next.items() if at < now]:
                del self._chat_next[chat]
