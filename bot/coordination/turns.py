"""Who answers a conversation's stored messages, one turn at a time, in stored order.

Two schedulers behind one interface:

- ``LocalTurns`` (one gateway, the embedded default): the conversation's jobs queue in
  this process (bot/sequencing.py), and a stored message is handed straight to its turn.
- ``SharedTurns`` (replicas; Redis): whichever replica stored a message, the turns of a
  conversation run under the conversation's lease in Redis. The holder answers every
  message of the conversation still ``received`` in the database, in id order, until none
  is left; a replica that stores a message while another holds the lease raises the
  conversation's "more work" flag, which the holder checks atomically as it lets go, so
  nothing stored is left behind. A holder that dies loses the lease when it expires;
  the periodic sweep (``MessagePipeline.sweep_unanswered``) wakes such conversations.
  The answer and the message's new status are written in one transaction that completes
  the message only while it is still ``received`` (TranscriptStore.record_outbound), so
  a turn that ran twice (a holder stalled past its lease) still stores one answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.coordination.lease import Lease, kept_alive
from bot.coordination.redis_link import RedisLink
from bot.sequencing import Job, SerialExecutor
from bot.transcript.store import StoredMessage

logger = logging.getLogger(__name__)

Answer = Callable[[StoredMessage], Awaitable[None]]
Backlog = Callable[[str], Awaitable[list[StoredMessage]]]

# Let go of the lease, unless another replica flagged more work meanwhile: then keep it
# (fresh ttl) and answer 2 ("look again"). 1 = released, 0 = it was no longer ours.
_RELEASE_OR_AGAIN = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
if redis.call('del', KEYS[2]) == 1 then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 2
end
redis.call('del', KEYS[1])
return 1
"""


class TurnScheduler(Protocol):
    """How the pipeline runs a conversation's work in turn."""

    shared: bool  # True when other processes answer the same conversations

    def bind(self, answer: Answer, backlog: Backlog) -> None:
        """``answer`` runs one message's turn; ``backlog`` lists a conversation's messages
        still waiting, in stored order."""

    def message_stored(self, message: StoredMessage) -> None:
        """A customer message was stored: answer it after the conversation's earlier ones."""

    def submit(self, conversation_id: str, job: Job) -> asyncio.Future[Any]:
        """Run other work of the conversation (a hand-back, a rating prompt) in turn."""

    async def drain_all(self) -> None:
        """Wait for the work queued in this process (shutdown)."""


class LocalTurns:
    shared = False

    def __init__(self) -> None:
        self._executor = SerialExecutor()
        self._answer: Answer | None = None

    def bind(self, answer: Answer, backlog: Backlog) -> None:
        self._answer = answer

    def message_stored(self, message: StoredMessage) -> None:
        answer = self._answer
        assert answer is not None, "bind() first"
        self._executor.submit(message.conversation_id, lambda: answer(message))

    def submit(self, conversation_id: str, job: Job) -> asyncio.Future[Any]:
        return self._executor.submit(conversation_id, job)

    async def drain_all(self) -> None:
        await self._executor.drain_all()


class SharedTurns:
    shared = True

    def __init__(self, link: RedisLink, lease_seconds: float = 15.0) -> None:
        self._link = link
        self._lease_seconds = lease_seconds
        # Within this process the conversation's jobs still queue in order, so only one
        # local task at a time asks Redis for the conversation's lease.
        self._executor = SerialExecutor()
        self._wake_queued: set[str] = set()
        self._answer: Answer | None = None
        self._backlog: Backlog | None = None
        self._release = link.client.register_script(_RELEASE_OR_AGAIN)

    def bind(self, answer: Answer, backlog: Backlog) -> None:
        self._answer, self._backlog = answer, backlog

    def message_stored(self, message: StoredMessage) -> None:
        self.wake(message.conversation_id)

    def wake(self, conversation_id: str) -> None:
        """Answer what is waiting in this conversation, here or on the lease holder."""
        if conversation_id in self._wake_queued:
            return  # a drain not yet started will read the backlog anyway
        self._wake_queued.add(conversation_id)
        self._executor.submit(conversation_id, lambda: self._drain(conversation_id))

    def submit(self, conversation_id: str, job: Job) -> asyncio.Future[Any]:
        return self._executor.submit(conversation_id, lambda: self._hold(conversation_id, job))

    async def drain_all(self) -> None:
        await self._executor.drain_all()

    # -- the lease ---------------------------------------------------------------------

    def _lease(self, conversation_id: str) -> Lease:
        return Lease(self._link, f"turns:{conversation_id}", self._lease_seconds)

    def _more_work_key(self, conversation_id: str) -> str:
        return self._link.key("turns-more", conversation_id)

    async def _drain(self, conversation_id: str) -> None:
        self._wake_queued.discard(conversation_id)
        try:
            await self._drain_once(conversation_id)
        except Exception:  # the message stays 'received'; the next wake or sweep retries
            logger.exception("answering conversation %s stopped", conversation_id)

    async def _drain_once(self, conversation_id: str) -> None:
        lease = self._lease(conversation_id)
        if not await lease.try_acquire():
            # Someone answers this conversation now: flag the new work for them, then
            # look once more, in case they let go between our two calls.
            await self._link.client.set(
                self._more_work_key(conversation_id), "1", px=lease.ttl_ms * 4
            )
            if not await lease.try_acquire():
                return
        await self._work_while_holding(conversation_id, lease, None)

    async def _hold(self, conversation_id: str, job: Job) -> Any:
        lease = self._lease(conversation_id)
        await lease.acquire()
        return await self._work_while_holding(conversation_id, lease, job)

    async def _work_while_holding(self, conversation_id: str, lease: Lease, job: Job | None) -> Any:
        assert self._answer is not None and self._backlog is not None, "bind() first"
        result: Any = None
        released = False
        try:
            async with kept_alive(lease) as lost:
                if job is not None:
                    result = await job()
                while not lost.is_set():
                    for message in await self._backlog(conversation_id):
                        if lost.is_set():
                            break
                        await self._answer(message)
                    outcome = await self._release(
                        keys=[lease.key, self._more_work_key(conversation_id)],
                        args=[lease.token, lease.ttl_ms],
                    )
                    if outcome != 2:
                        released = True
                        break
        finally:
            if not released:
                try:
                    await lease.release()
                except Exception:  # it expires by itself
                    logger.warning("could not release %s", lease.key, exc_info=True)
        return result


class LeasedExecutor:
    """``SerialExecutor`` whose jobs also hold a per-key lease in Redis, so the jobs of one
    key never overlap across replicas either (the desk's deliveries to a conversation).
    Within a replica they keep submission order; across replicas, lease order."""

    def __init__(self, link: RedisLink, namespace: str, lease_seconds: float = 15.0) -> None:
        self._link = link
        self._namespace = namespace
        self._lease_seconds = lease_seconds
        self._executor = SerialExecutor()

    def submit(self, key: str, job: Job) -> asyncio.Future[Any]:
        return self._executor.submit(key, lambda: self._under_lease(key, job))

    async def _under_lease(self, key: str, job: Job) -> Any:
        lease = Lease(self._link, f"{self._namespace}:{key}", self._lease_seconds)
        await lease.acquire()
        try:
            async with kept_alive(lease):
                return await job()
        finally:
            try:
                await lease.release()
            except Exception:  # it expires by itself
                logger.warning("could not release %s", lease.key, exc_info=True)

    @property
    def busy_keys(self) -> int:
        return self._executor.busy_keys

    async def drain_all(self) -> None:
        await self._executor.drain_all()
