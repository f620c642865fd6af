"""Agents' display names as customers are told them ("Dana from our support team has joined").

Before, the gateway kept the names in process memory, filled when an agent's console
connected to *that* gateway; with replicas, a customer served by another replica read
"An agent". The names now come from the users table on a miss, so every replica knows
every agent. A read runs in a worker thread (the injected ``load``, e.g. the user
directory's ``run``), and a name is kept for ``ttl_seconds`` so a busy chat costs no query
per typing signal while a renamed agent shows under the new name within the TTL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

FALLBACK_NAME = "An agent"
NAME_TTL_SECONDS = 60.0


class AgentNames:
    """``await names(agent_id)`` -> the agent's display name (``FALLBACK_NAME`` for an
    unknown id or while the users table cannot be read)."""

    def __init__(
        self,
        load: Callable[[int], Awaitable[str | None]],
        *,
        ttl_seconds: float = NAME_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._clock = clock
        self._names: dict[int, tuple[str, float]] = {}  # agent id -> (name, read at)

    def remember(self, agent_id: int, name: str) -> None:
        """A name just read elsewhere (the agent's console connected): no second read."""
        self._names[agent_id] = (name, self._clock())

    async def __call__(self, agent_id: int) -> str:
        cached = self._names.get(agent_id)
        if cached is not None and self._clock() - cached[1] < self._ttl:
            return cached[0]
        try:
            name = await self._load(agent_id)
        except Exception:  # a customer still gets the message, with the last name known
            logger.exception("could not read agent %s's display name", agent_id)
            return cached[0] if cached is not None else FALLBACK_NAME
        if not name:
            self._names.pop(agent_id, None)
            return FALLBACK_NAME
        self.remember(agent_id, name)
        return name


__all__ = ["FALLBACK_NAME", "NAME_TTL_SECONDS", "AgentNames"]
