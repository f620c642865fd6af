"""Builds what the gateway shares with its replicas, from settings.

Without ``REDIS_URL`` everything stays in this process (the embedded default); with it,
socket.io rooms, conversation turns, delivery queues, rate limits and the Telegram
poller's leadership live in Redis (docs/architecture.md, "Replicas").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import socketio

from bot.coordination.connections import AgentConnections, LocalConnections, SharedConnections
from bot.coordination.lease import LeaderLease, Lease
from bot.coordination.redis_link import RedisLink
from bot.coordination.turns import LeasedExecutor, LocalTurns, SharedTurns, TurnScheduler
from bot.ratelimit import ChatFloodGuard, ChatLimits, Limit, RateLimiter, make_limiter
from bot.sequencing import SerialExecutor
from bot.settings import Settings

logger = logging.getLogger(__name__)

TELEGRAM_LEADER_TTL_SECONDS = 10.0


@dataclass
class Coordination:
    link: RedisLink | None
    turns: TurnScheduler
    deliveries: Any  # SerialExecutor or LeasedExecutor: submit(key, job), drain_all()
    limiter: RateLimiter
    chat_guard: ChatFloodGuard
    client_manager: socketio.AsyncRedisManager | None

    @property
    def shared(self) -> bool:
        return self.link is not None

    def console_connections(self) -> AgentConnections:
        """Agents' console connections, counted over every replica."""
        return SharedConnections(self.link) if self.link is not None else LocalConnections()

    async def my_turn_for_upkeep(self, every_seconds: float) -> bool:
        """Replicas: one of them runs the desk's periodic upkeep per period (releasing an
        absent agent's chats twice would tell the customer twice). The lease is not let go:
        it runs out just before the next period, when any replica may take it."""
        if self.link is None:
            return True
        try:
            return await Lease(self.link, "desk-upkeep", max(1.0, every_seconds - 1.0)).try_acquire()
        except Exception:
            logger.warning("upkeep lease: Redis unreachable; skipping this round", exc_info=True)
            return False

    def telegram_leader(self) -> LeaderLease | None:
        """Only the replica holding this lease polls Telegram (webhook calls go anywhere)."""
        if self.link is None:
            return None
        return LeaderLease(self.link, "telegram-poller", TELEGRAM_LEADER_TTL_SECONDS)

    async def aclose(self) -> None:
        if self.link is not None:
            await self.link.aclose()


def coordination_from(settings: Settings) -> Coordination:
    link = RedisLink.connect(settings.redis_url, settings.redis_prefix) if settings.redis_url else None
    limiter = make_limiter(link)
    guard = ChatFloodGuard(limiter, ChatLimits(
        per_conversation=Limit(settings.chat_messages_per_conversation, settings.chat_window_seconds),
        per_ip=Limit(settings.chat_messages_per_ip, settings.chat_window_seconds),
        new_conversations_per_ip=Limit(settings.chat_new_conversations_per_ip, 60.0),
    ), trust_forwarded_for=settings.forwarded_for_trusted)
    if link is None:
        return Coordination(None, LocalTurns(), SerialExecutor(), limiter, guard, None)
    assert settings.redis_url is not None
    manager = socketio.AsyncRedisManager(settings.redis_url, channel=f"{settings.redis_prefix}socketio")
    logger.info("gateway state shared through Redis (prefix %r)", settings.redis_prefix)
    return Coordination(
        link,
        SharedTurns(link, settings.turn_lease_seconds),
        LeasedExecutor(link, "deliveries", settings.turn_lease_seconds),
        limiter,
        guard,
        manager,
    )
