"""Leases in Redis: a lock that a dead holder loses when its time runs out.

``SET key token NX PX ttl`` takes it; the holder renews it (only while the value is still
its token) and deletes it on release (same check). A holder that dies, or stalls longer
than the ttl, loses it to whoever asks next. Used for a conversation's turns
(bot/coordination/turns.py), the Telegram poller's leadership and similar singletons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.coordination.redis_link import RedisLink

logger = logging.getLogger(__name__)

# Renew only while the value is still ours: a lease that expired and was taken by
# another holder must not be extended by the old one.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lease:
    """One named lease. ``try_acquire`` never waits; ``acquire`` polls until it holds."""

    def __init__(self, link: RedisLink, name: str, ttl_seconds: float) -> None:
        self._link = link
        self.key = link.key("lease", name)
        self.ttl_ms = max(100, int(ttl_seconds * 1000))
        self.token = uuid.uuid4().hex
        self._renew = link.client.register_script(_RENEW)
        self._release = link.client.register_script(_RELEASE)

    async def try_acquire(self) -> bool:
        return bool(await self._link.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def acquire(self, poll_seconds: float = 0.05, max_poll_seconds: float = 0.5) -> None:
        wait = poll_seconds
        while not await self.try_acquire():
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, max_poll_seconds)

    async def renew(self) -> bool:
        """True while we still hold it (and its time starts again)."""
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> bool:
        return bool(await self._release(keys=[self.key], args=[self.token]))

    async def holder(self) -> str | None:
        value: Any = await self._link.client.get(self.key)
        return value


@contextlib.asynccontextmanager
async def kept_alive(lease: Lease, on_lost: Callable[[], Any] | None = None):  # type: ignore[no-untyped-def]
    """While the body runs, renew the held lease three times per ttl."""
    lost = asyncio.Event()

    async def renew_forever() -> None:
        while True:
            await asyncio.sleep(lease.ttl_ms / 3000)
            try:
                still = await lease.renew()
            except Exception:  # Redis away for a moment: try again next time
                logger.warning("could not renew lease %s", lease.key, exc_info=True)
                continue
            if not still:
                logger.warning("lease %s was lost (expired and taken)", lease.key)
                lost.set()
                if on_lost is not None:
                    on_lost()
                return

    task = asyncio.create_task(renew_forever(), name=f"renew {lease.key}")
    try:
        yield lost
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class LeaderLease:
    """Leadership among replicas for a job only one may run (the Telegram poller).

    ``lead(work)`` waits until this replica holds the lease, runs ``work`` while renewing,
    and cancels it when the lease is lost; then it waits to lead again. A dead leader's
    lease expires after ``ttl_seconds`` and another replica takes over.
    """

    def __init__(self, link: RedisLink, name: str, ttl_seconds: float = 10.0) -> None:
        self._lease = Lease(link, name, ttl_seconds)
        self.is_leader = False

    @property
    def lease(self) -> Lease:
        return self._lease

    async def lead(self, work: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await self._lease.acquire(poll_seconds=0.2, max_poll_seconds=self._lease.ttl_ms / 3000)
            except Exception:
                logger.warning("leader election for %s: Redis unreachable", self._lease.key, exc_info=True)
                await asyncio.sleep(1.0)
                continue
            self.is_leader = True
            logger.info("this replica now leads %s", self._lease.key)
            job = asyncio.create_task(work())
            try:
                async with kept_alive(self._lease) as lost:
                    lost_wait = asyncio.create_task(lost.wait())
                    done, _ = await asyncio.wait({job, lost_wait}, return_when=asyncio.FIRST_COMPLETED)
                    lost_wait.cancel()
                    if job in done:
                        job.result()
                        return  # the work ended by itself (e.g. the token was refused)
            finally:
                self.is_leader = False
                if not job.done():
                    job.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await job
                with contextlib.suppress(Exception):
                    await self._lease.release()
            logger.warning("lost the lead of %s; waiting to lead again", self._lease.key)
