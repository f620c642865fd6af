"""Which agents have a console connected, counted over every gateway replica.

An agent's console may reconnect to another replica (a restart, the balancer moving
it); the replica where the last connection closed must not release their chats after
the grace period when they are connected elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from typing import Protocol

from bot.coordination.redis_link import RedisLink

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
# A replica that died stops refreshing its connections; they stop counting after this.
STALE_SECONDS = 3 * HEARTBEAT_SECONDS


class AgentConnections(Protocol):
    async def add(self, agent_id: int, sid: str) -> bool:
        """Count a connection; True when it is the agent's first anywhere."""

    async def remove(self, agent_id: int, sid: str) -> bool:
        """Forget a connection; True when the agent has none left anywhere."""

    async def connected(self, agent_id: int) -> bool: ...

    async def close(self) -> None: ...


class LocalConnections:
    def __init__(self) -> None:
        self._sids: dict[int, set[str]] = defaultdict(set)

    async def add(self, agent_id: int, sid: str) -> bool:
        first = not self._sids[agent_id]
        self._sids[agent_id].add(sid)
        return first

    async def remove(self, agent_id: int, sid: str) -> bool:
        self._sids[agent_id].discard(sid)
        return not self._sids[agent_id]

    async def connected(self, agent_id: int) -> bool:
        return bool(self._sids.get(agent_id))

    async def close(self) -> None:
        self._sids.clear()


class SharedConnections:
    """A sorted set per agent in Redis: member ``<replica>:<sid>``, score = last heartbeat."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._replica = uuid.uuid4().hex[:12]
        self._mine: dict[int, set[str]] = defaultdict(set)
        self._heartbeat: asyncio.Task[None] | None = None

    def _key(self, agent_id: int) -> str:
        return self._link.key("console", agent_id)

    async def _live(self, agent_id: int) -> int:
        now = time.time()
        key = self._key(agent_id)
        await self._link.client.zremrangebyscore(key, "-inf", now - STALE_SECONDS)
        return int(await self._link.client.zcard(key))

    async def add(self, agent_id: int, sid: str) -> bool:
        first = await self._live(agent_id) == 0
        key = self._key(agent_id)
        await self._link.client.zadd(key, {f"{self._replica}:{sid}": time.time()})
        await self._link.client.expire(key, int(STALE_SECONDS * 2))
        self._mine[agent_id].add(sid)
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="console heartbeat")
        return first

    async def remove(self, agent_id: int, sid: str) -> bool:
        self._mine[agent_id].discard(sid)
        await self._link.client.zrem(self._key(agent_id), f"{self._replica}:{sid}")
        return await self._live(agent_id) == 0

    async def connected(self, agent_id: int) -> bool:
        return await self._live(agent_id) > 0

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            now = time.time()
            try:
                for agent_id, sids in list(self._mine.items()):
                    if sids:
                        key = self._key(agent_id)
                        await self._link.client.zadd(key, {f"{self._replica}:{sid}": now for sid in sids})
                        await self._link.client.expire(key, int(STALE_SECONDS * 2))
            except Exception:  # Redis away for a moment: the next beat catches up
                logger.warning("console heartbeat failed", exc_info=True)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        with contextlib.suppress(Exception):
            for agent_id, sids in self._mine.items():
                if sids:
                    await self._link.client.zrem(self._key(agent_id), *(f"{self._replica}:{sid}" for sid in sids))
