"""Sliding-window rate limits shared by every gateway replica (Redis) or kept in memory.

One implementation of the window logic (``RateLimiter``) over two stores of event times:
``MemoryWindows`` (one gateway, the embedded default) and ``RedisWindows`` (``REDIS_URL``
set; every replica counts into the same sorted sets, so a limit holds for the whole
deployment, not per process). An event counts when it is admitted; a refused event is
not recorded, so a client that keeps hammering is let in again as soon as its admitted
events leave the window.

Used for login attempts (staff/auth/throttle.py) and the public chat (``ChatFloodGuard``:
per connection, per IP, new conversations per IP; per chat on Telegram).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from bot.coordination.redis_link import RedisLink

logger = logging.getLogger(__name__)

FLOOD_NOTICE = "You're sending messages very fast; please wait a few seconds."
NEW_CONVERSATIONS_NOTICE = (
    "Too many new chats were started from your network just now; please wait a minute and try again."
)


class ChatRefused(Exception):
    """A customer message refused by a rate limit; ``notice`` is what the customer is told."""

    def __init__(self, notice: str) -> None:
        super().__init__(notice)
        self.notice = notice


@dataclass(frozen=True)
class Limit:
    events: int  # admitted per window; 0 = no limit
    window_seconds: float


class WindowStore(Protocol):
    """Event times per key. ``admit`` is atomic: drop times older than ``since``, and if
    fewer than ``limit`` remain, add ``now``. Returns (admitted, remaining times, oldest
    first, including the new one when admitted)."""

    async def admit(self, key: str, now: float, since: float, limit: int, ttl: float) -> tuple[bool, list[float]]: ...

    async def times(self, key: str, since: float) -> list[float]: ...

    async def clear(self, key: str) -> None: ...


class MemoryWindows:
    """This process's memory; the number of keys is bounded (oldest dropped first), so
    an attacker rotating keys cannot grow it without end."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._times: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def _recent(self, key: str, since: float) -> deque[float] | None:
        times = self._times.get(key)
        if times is None:
            return None
        while times and times[0] <= since:
            times.popleft()
        if not times:
            del self._times[key]
            return None
        return times

    async def admit(self, key: str, now: float, since: float, limit: int, ttl: float) -> tuple[bool, list[float]]:
        times = self._recent(key, since)
        if times is not None and len(times) >= limit:
            return False, list(times)
        if times is None:
            times = self._times[key] = deque()
        times.append(now)
        if len(self._times) > self._max_keys:
            for other in list(self._times):
                self._recent(other, since)
            while len(self._times) > self._max_keys:
                self._times.pop(next(iter(self._times)))
        return True, list(times)

    async def times(self, key: str, since: float) -> list[float]:
        return list(self._recent(key, since) or ())

    async def clear(self, key: str) -> None:
        self._times.pop(key, None)

    def __len__(self) -> int:
        return len(self._times)


# Members are "time:random" so two events in the same instant stay two.
_ADMIT = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[2])
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, redis.call('zrange', KEYS[1], 0, -1, 'WITHSCORES')}
end
redis.call('zadd', KEYS[1], ARGV[1], ARGV[1] .. ':' .. ARGV[5])
redis.call('pexpire', KEYS[1], ARGV[4])
return {1, redis.call('zrange', KEYS[1], 0, -1, 'WITHSCORES')}
"""


class RedisWindows:
    """Sorted sets in Redis, one per key, scored by event time; a Lua script makes the
    check-and-add atomic across replicas. Times come from the caller's clock, so the
    replicas' clocks should agree (NTP); a skew of a second only shifts a window's edge."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._admit = link.client.register_script(_ADMIT)

    def _key(self, key: str) -> str:
        return self._link.key("rate", key)

    async def admit(self, key: str, now: float, since: float, limit: int, ttl: float) -> tuple[bool, list[float]]:
        admitted, flat = await self._admit(
            keys=[self._key(key)],
            args=[repr(now), repr(since), limit, max(1, math.ceil(ttl * 1000)), uuid.uuid4().hex[:8]],
        )
        return bool(admitted), [float(score) for score in flat[1::2]]

    async def times(self, key: str, since: float) -> list[float]:
        scores = await self._link.client.zrangebyscore(self._key(key), f"({since!r}", "+inf", withscores=True)
        return [float(score) for _, score in scores]

    async def clear(self, key: str) -> None:
        await self._link.client.delete(self._key(key))


class RateLimiter:
    """``hit`` admits an event or says how many seconds until one would be admitted.

    A store that cannot be reached (Redis restarting) admits: a customer's message or a
    login must not fail because the counter is away; the outage is logged."""

    def __init__(self, store: WindowStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    async def hit(self, key: str, limit: Limit) -> int | None:
        """None when admitted (and counted); else whole seconds to wait (at least 1)."""
        if limit.events <= 0:
            return None
        now = self._clock()
        try:
            admitted, times = await self.store.admit(
                key, now, now - limit.window_seconds, limit.events, limit.window_seconds
            )
        except (OSError, RedisError) as error:
            logger.warning("rate limit store unreachable (%s); admitted without counting", type(error).__name__)
            return None
        return None if admitted else self._wait(times, limit, now)

    async def retry_after(self, key: str, limit: Limit) -> int | None:
        if limit.events <= 0:
            return None
        now = self._clock()
        try:
            times = await self.store.times(key, now - limit.window_seconds)
        except (OSError, RedisError):
            return None
        return self._wait(times, limit, now) if len(times) >= limit.events else None

    async def clear(self, key: str) -> None:
        try:
            await self.store.clear(key)
        except (OSError, RedisError) as error:
            logger.warning("rate limit store unreachable (%s); key not cleared", type(error).__name__)

    @staticmethod
    def _wait(times: list[float], limit: Limit, now: float) -> int:
        # The next event is admitted once the oldest of the last `events` leaves the window.
        oldest_that_counts = times[-limit.events]
        return max(1, math.ceil(oldest_that_counts + limit.window_seconds - now))


def make_limiter(link: RedisLink | None, clock: Callable[[], float] = time.time) -> RateLimiter:
    return RateLimiter(RedisWindows(link) if link is not None else MemoryWindows(), clock)


@dataclass(frozen=True)
class ChatLimits:
    per_conversation: Limit  # messages of one web connection or one Telegram chat
    per_ip: Limit  # messages from one address, all its connections together
    new_conversations_per_ip: Limit


class ChatFloodGuard:
    """What the public chat asks before storing a customer message or opening a chat.

    A flooded message is refused: not stored, not answered, and the customer gets
    ``FLOOD_NOTICE`` (once per window and key, so the notice itself cannot flood them).
    A person who meant it sees the notice at once and sends it again a few seconds
    later; storing it unanswered would leave them waiting for an answer that never comes.
    """

    def __init__(self, limiter: RateLimiter, limits: ChatLimits, trust_forwarded_for: bool = False) -> None:
        self._limiter = limiter
        self.limits = limits
        self._trust_forwarded_for = trust_forwarded_for
        self._notice_window = Limit(1, limits.per_conversation.window_seconds)

    async def message_refusal(self, conversation_key: str, environ: dict[str, Any] | None = None) -> str | None:
        """None when the message may be stored; else the notice to show the customer.
        ``environ``: the web connection's (its IP counts too); None on Telegram."""
        wait = await self._limiter.hit(f"chat:conv:{conversation_key}", self.limits.per_conversation)
        ip = client_ip(environ, self._trust_forwarded_for)
        if wait is None and ip:
            wait = await self._limiter.hit(f"chat:ip:{ip}", self.limits.per_ip)
        return None if wait is None else FLOOD_NOTICE

    async def should_notify(self, conversation_key: str) -> bool:
        """Whether to tell this key about a refusal now (at most once per window)."""
        return await self._limiter.hit(f"chat:notice:{conversation_key}", self._notice_window) is None

    async def new_conversation_refusal(self, environ: dict[str, Any] | None) -> str | None:
        ip = client_ip(environ, self._trust_forwarded_for)
        if not ip:
            return None
        wait = await self._limiter.hit(f"chat:new:{ip}", self.limits.new_conversations_per_ip)
        return None if wait is None else NEW_CONVERSATIONS_NOTICE


def client_ip(environ: dict[str, Any] | None, trust_forwarded_for: bool) -> str | None:
    """The customer's address from an ASGI/WSGI-style environ: the peer, or behind a
    trusted load balancer (HAProxy ``option forwardfor``) the last X-Forwarded-For hop."""
    if not environ:
        return None
    if trust_forwarded_for:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if isinstance(forwarded, str) and forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    peer = environ.get("REMOTE_ADDR")
    return str(peer)[:64] if peer else None


__all__ = [
    "ChatFloodGuard", "ChatRefused", "ChatLimits", "FLOOD_NOTICE", "Limit", "MemoryWindows", "RateLimiter",
    "RedisWindows", "client_ip", "make_limiter",
]
