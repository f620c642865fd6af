"""Exactly one replica polls Telegram; another takes over when the leader dies."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.telegram.polling import PollingLoop
from bot.coordination.lease import LeaderLease
from tests.replicas.conftest import second_link


class CountingBot:
    """getUpdates that returns nothing after a short long-poll, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_updates(self, **_: Any) -> list[Any]:
        self.calls += 1
        await asyncio.sleep(0.05)
        return []


class LeaderIntake:
    def __init__(self, leader: LeaderLease) -> None:
        self.leader = leader


async def _calls_during(bot: CountingBot, seconds: float) -> int:
    before = bot.calls
    await asyncio.sleep(seconds)
    return bot.calls - before


async def test_one_replica_polls_and_another_takes_over_when_it_dies(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    bot_a, bot_b = CountingBot(), CountingBot()
    leader_a, leader_b = LeaderLease(link, "telegram-poller", 0.6), LeaderLease(other, "telegram-poller", 0.6)
    task_a = asyncio.create_task(PollingLoop(bot_a, LeaderIntake(leader_a), 1).run())  # type: ignore[arg-type]
    await asyncio.sleep(0.3)
    task_b = asyncio.create_task(PollingLoop(bot_b, LeaderIntake(leader_b), 1).run())  # type: ignore[arg-type]
    try:
        a_calls, b_calls = await asyncio.gather(_calls_during(bot_a, 1.0), _calls_during(bot_b, 1.0))
        assert a_calls > 5 and b_calls == 0  # only the leader polls
        assert leader_a.is_leader and not leader_b.is_leader

        # Replica A dies: its lease is neither renewed nor let go, so it runs out.
        async def crash_release() -> bool:
            return False

        leader_a.lease.release = crash_release  # type: ignore[method-assign]
        task_a.cancel()
        await asyncio.gather(task_a, return_exceptions=True)
        assert await _calls_during(bot_b, 0.3) == 0  # the dead leader's lease still holds
        await asyncio.sleep(0.8)
        assert leader_b.is_leader
        assert await _calls_during(bot_b, 0.5) > 3  # B took over
        assert await _calls_during(bot_a, 0.3) == 0
    finally:
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)
        await other.aclose()


async def test_a_leader_that_stops_hands_over_at_once(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    bot_a, bot_b = CountingBot(), CountingBot()
    leader_a, leader_b = LeaderLease(link, "telegram-poller", 5.0), LeaderLease(other, "telegram-poller", 5.0)
    task_a = asyncio.create_task(PollingLoop(bot_a, LeaderIntake(leader_a), 1).run())  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    task_b = asyncio.create_task(PollingLoop(bot_b, LeaderIntake(leader_b), 1).run())  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.3)
        assert bot_b.calls == 0
        task_a.cancel()  # a clean shutdown lets go of the lease
        await asyncio.gather(task_a, return_exceptions=True)
        # B polls long before the 5 s lease would have run out.
        await asyncio.wait_for(_until(lambda: bot_b.calls > 0), 3.0)
    finally:
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)
        await other.aclose()


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        await asyncio.sleep(0.02)
