"""Password policy and argon2id hashing, run off the event loop."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MIN_LENGTH = 12
# argon2 pre-hashes its input, so length costs little time; the cap only keeps a
# megabyte-sized "password" out of request bodies and memory.
MAX_LENGTH = 1024


class PasswordPolicyError(ValueError):
    """The password does not meet the policy; the message says why (never the password)."""


class Passwords:
    """Hashes and verifies passwords with argon2id.

    argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, t=3):
    each hash takes tens of milliseconds and 64 MiB, so the async methods run in worker
    threads and at most ``max_concurrent`` at once, lest a burst of logins exhaust memory.
    """

    def __init__(
        self,
        min_length: int = DEFAULT_MIN_LENGTH,
        hasher: PasswordHasher | None = None,
        max_concurrent: int = 4,
    ) -> None:
        self.min_length = min_length
        self._hasher = hasher or PasswordHasher()
        self._limiter: anyio.CapacityLimiter | None = None
        self._max_concurrent = max_concurrent
        self._dummy_hash: str | None = None

    # -- policy -------------------------------------------------------------------------

    def check_policy(self, password: str) -> None:
        if len(password) < self.min_length:
            raise PasswordPolicyError(f"password must be at least {self.min_length} characters")
        if len(password) > MAX_LENGTH:
            raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters")
        if not password.strip():
            raise PasswordPolicyError("password must not be only spaces")

    # -- blocking (CLI, worker threads) -------------------------------------------------

    def hash(self, password: str) -> str:
        """Hash a new password; refuses one that breaks the policy."""
        self.check_policy(password)
        return self._hasher.hash(password)

    def hash_unchecked(self, password: str) -> str:
        """Hash a password already proven (a rehash at login), whatever today's policy."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            # A corrupt or foreign hash: refuse the login, but tell the operator.
            logger.warning("stored password hash could not be verified (corrupt or unknown format)")
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def burn_dummy(self, password: str) -> None:
        """Spend the time of a real verification, for logins to unknown or inactive users.

        Without it an unknown email answers in microseconds and a known one in tens of
        milliseconds, and the difference tells an attacker which accounts exist.
        """
        if self._dummy_hash is None:
            # Made lazily (not at import) and with the current parameters, so it costs
            # exactly what a real verification costs.
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))
        self.verify(self._dummy_hash, password)

    # -- async (request handlers) -------------------------------------------------------

    def _capacity(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            # Created on first use, inside a running event loop.
            self._limiter = anyio.CapacityLimiter(self._max_concurrent)
        return self._limiter

    async def run_limited(self, work: Callable[[], T]) -> T:
        """Run blocking work that hashes in a worker thread, under the concurrency cap."""
        return await anyio.to_thread.run_sync(work, limiter=self._capacity())

    async def hash_async(self, password: str) -> str:
        return await self.run_limited(lambda: self.hash(password))

    async def verify_async(self, password_hash: str, password: str) -> bool:
        return await self.run_limited(lambda: self.verify(password_hash, password))
