"""Run the jobs of one key (a conversation) one after another, in submission order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class SerialExecutor:
    """Jobs with the same key run strictly in the order ``submit`` was called.

    ``submit`` is synchronous, so a caller that submits before its first ``await`` keeps
    the order in which events arrived. Different keys run concurrently. A worker task
    exists only while its key has queued work, so idle conversations cost nothing.
    """

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[tuple[Job, asyncio.Future[Any]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, key: str, job: Job) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(key, asyncio.Queue())
        queue.put_nowait((job, future))
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._drain(key, queue))
        return future

    async def _drain(self, key: str, queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]]) -> None:
        while True:
            try:
                job, future = queue.get_nowait()
            except asyncio.QueueEmpty:
                # No await between the empty check and the removal: nothing can slip in.
                del self._queues[key]
                del self._workers[key]
                return
            try:
                result = await job()
            except Exception as exc:  # the job's caller decides what a failure means
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)

    @property
    def busy_keys(self) -> int:
        return len(self._workers)

    async def drain_all(self) -> None:
        """Wait for all queued work (used at shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
