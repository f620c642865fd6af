"""Messages that arrived while no Rasa server could be reached, answered when one is back.

`helpline run` restarts a Rasa server that died (bot/supervisor.py); loading the model
takes a while. Meanwhile the gateway keeps storing messages and tells the customer they
are saved; the message stays ``received`` (so a gateway restart also answers it, through
the start-up resume) and waits here. Once a Rasa server answers its health check again,
each conversation's waiting messages are answered in stored order, as one job on the
conversation's turn queue; later messages of a conversation that has some waiting join
the back of its line, so nothing overtakes an earlier message.

The same line holds messages whose turn failed for a passing reason other than Rasa's
absence (Rasa timed out under load, our database or Redis was unreachable while the turn
finished; see ``MessagePipeline._answer``): Rasa answers its health check then, so they
are simply tried again a poll later. The customer is told "saved" once per conversation
while it has a line, not for every message that joins it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class _Message(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def conversation_id(self) -> str: ...


class _Readiness(Protocol):
    async def is_ready(self) -> bool: ...


class RasaWaitingRoom:
    def __init__(
        self,
        rasa: _Readiness,
        submit: Callable[[str, Callable[[], Awaitable[None]]], object],
        answer: Callable[[_Message], Awaitable[None]],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._rasa = rasa
        self._submit = submit  # the pipeline's per-conversation turn queue
        self._answer = answer
        self._poll_seconds = poll_seconds
        self._waiting: dict[str, list[_Message]] = {}
        self._noticed: set[str] = set()  # conversations told "saved" since their line began
        self._draining: dict[str, int | None] = {}  # conversation -> message being answered
        self._poller: asyncio.Task[None] | None = None

    def should_wait(self, message: _Message) -> bool:
        """True if earlier messages of this conversation are still waiting for Rasa."""
        conversation = message.conversation_id
        if conversation in self._draining:
            return self._draining[conversation] != message.id
        return bool(self._waiting.get(conversation))

    def park(self, message: _Message) -> bool:
        """Keep the message until Rasa is back (or for another try). True when the
        conversation had no line yet: tell the customer once."""
        line = self._waiting.setdefault(message.conversation_id, [])
        if all(m.id != message.id for m in line):
            line.append(message)
            line.sort(key=lambda m: m.id)
        if message.conversation_id in self._draining:
            if self._draining[message.conversation_id] == message.id:
                # Rasa went away again while answering the line: stop, the poller retries.
                self._draining[message.conversation_id] = None
            else:
                return False  # joins a line being answered right now: no notice needed
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        first = message.conversation_id not in self._noticed
        self._noticed.add(message.conversation_id)
        return first

    def holds(self, message: _Message) -> bool:
        """The message waits in its conversation's line (or is being answered from it)."""
        conversation = message.conversation_id
        return (self._draining.get(conversation) == message.id
                or any(m.id == message.id for m in self._waiting.get(conversation, [])))

    @property
    def waiting_count(self) -> int:
        return sum(len(line) for line in self._waiting.values())

    async def _poll(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._poll_seconds)
            idle = [c for c in self._waiting if c not in self._draining]
            if not idle or not await self._rasa.is_ready():
                continue
            logger.info("Rasa is back: answering %d waiting messages", self.waiting_count)
            for conversation in idle:
                self._draining[conversation] = None
                self._submit(conversation, lambda c=conversation: self._drain(c))

    async def _drain(self, conversation: str) -> None:
        try:
            while self._waiting.get(conversation):
                message = self._waiting[conversation].pop(0)
                self._draining[conversation] = message.id
                await self._answer(message)
                if self._draining.get(conversation) is None:
                    return  # parked again: Rasa went away
        finally:
            self._draining.pop(conversation, None)
            if not self._waiting.get(conversation):
                self._waiting.pop(conversation, None)
                self._noticed.discard(conversation)  # a later outage tells them again

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
