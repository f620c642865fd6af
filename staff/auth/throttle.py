"""Login throttling: a bounded number of failed attempts per (email, IP) per window.

In memory, per gateway process: enough for one gateway; several replicas would each allow
the limit (move the counters to Redis with the scale work, ARCHITECTURE.md section 9).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

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
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ValueError("max_failures must be >= 1 and window_seconds > 0")
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._attempts: dict[str, deque[float]] = {}

    @staticmethod
    def key(email: str, ip: str | None) -> str:
        return f"{email.strip().lower()}|{ip or '-'}"

    def _recent(self, key: str, now: float) -> deque[float] | None:
        attempts = self._attempts.get(key)
        if attempts is None:
            return None
        while attempts and attempts[0] <= now - self.window_seconds:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]
            return None
        return attempts

    def retry_after(self, key: str) -> int | None:
        """Seconds until this key may try again, or None when it may try now."""
        now = self._clock()
        attempts = self._recent(key, now)
        if attempts is None or len(attempts) < self.max_failures:
            return None
        oldest_that_counts = attempts[-self.max_failures]
        return max(1, math.ceil(oldest_that_counts + self.window_seconds - now))

    def begin(self, key: str) -> int | None:
        """Count an attempt; returns seconds to wait instead when the key is blocked."""
        wait = self.retry_after(key)
        if wait is not None:
            return wait
        now = self._clock()
        self._attempts.setdefault(key, deque()).append(now)
        self._bound_memory(now)
        return None

    def succeeded(self, key: str) -> None:
        self._attempts.pop(key, None)

    def _bound_memory(self, now: float) -> None:
        # An attacker rotating emails creates keys; keep their number bounded by first
        # dropping expired ones, then the oldest (insertion order).
        if len(self._attempts) <= self._max_keys:
            return
        for key in list(self._attempts):
            self._recent(key, now)
        while len(self._attempts) > self._max_keys:
            self._attempts.pop(next(iter(self._attempts)))
        logger.warning("login throttle held more than %d keys; oldest dropped", self._max_keys)
