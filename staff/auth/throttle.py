"""Login throttling: a bounded number of failed attempts per (email, IP) per window.

The counting is bot/ratelimit.py's sliding window: in this process's memory for one
gateway, in Redis when REDIS_URL is set, so gateway replicas share one count (a guesser
spreading attempts over replicas gets the same limit as one hitting a single gateway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.ratelimit import Limit, MemoryWindows, RateLimiter, WindowStore

logger = logging.getLogger(__name__)


class LoginThrottle:
    """Sliding-window counter of login attempts that have not (yet) succeeded.

    An attempt counts from the moment it starts (``begin``), not when it fails, so a burst
    of concurrent guesses cannot all slip past the check while the slow hashes run; a
    successful login clears its key.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        store: WindowStore | None = None,
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ValueError("max_failures must be >= 1 and window_seconds > 0")
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._limit = Limit(max_failures, window_seconds)
        # A shared store (Redis) needs one clock for every replica: wall time.
        self.limiter = RateLimiter(store or MemoryWindows(max_keys), clock if store is None else time.time)

    @staticmethod
    def key(email: str, ip: str | None) -> str:
        return f"{email.strip().lower()}|{ip or '-'}"

    async def retry_after(self, key: str) -> int | None:
        """Seconds until this key may try again, or None when it may try now."""
        return await self.limiter.retry_after(f"login:{key}", self._limit)

    async def begin(self, key: str) -> int | None:
        """Count an attempt; returns seconds to wait instead when the key is blocked."""
        return await self.limiter.hit(f"login:{key}", self._limit)

    async def succeeded(self, key: str) -> None:
        await self.limiter.clear(f"login:{key}")
