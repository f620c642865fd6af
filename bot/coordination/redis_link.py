"""The gateway's Redis connection and key names."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True)
class RedisLink:
    """One client (a connection pool) plus the prefix every Helpline key starts with,
    so several deployments or test runs can share one Redis without meeting."""

    client: aioredis.Redis
    prefix: str

    @classmethod
    def connect(cls, url: str, prefix: str) -> "RedisLink":
        return cls(aioredis.from_url(url, decode_responses=True, health_check_interval=30), prefix)

    def key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(part) for part in parts)

    async def aclose(self) -> None:
        await self.client.aclose()
