"""Telegram under stress, through the fake Bot API: a 429 storm across many chats while
one customer has blocked the bot and every update arrives twice, out of order (polling:
Telegram re-sends updates whose offset was not confirmed)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.telegram.harness import running_telegram_gateway

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CHATS = [91_000 + n for n in range(8)]
BLOCKED = CHATS[-1]


async def test_a_429_storm_with_a_blocked_chat_and_doubled_updates(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        gw.api.flood_next("sendMessage", retry_after=1, times=12)  # a storm: 12 refusals in a row
        gw.api.block(BLOCKED)
        updates = [gw.api.text_update(chat, f"q{n} {chat}") for chat in CHATS for n in range(4)]
        deliveries = updates * 2
        random.Random(3).shuffle(deliveries)
        for update in deliveries:
            gw.api.queue_update(update)
        await gw.api.wait_for(
            lambda: all(len(gw.api.sent(chat)) >= 4 for chat in CHATS if chat != BLOCKED),
            timeout=90, what="every answer after the storm",
        )
        await gw.settle()
        storm = gw.api.calls_to("sendMessage", status=429)
        assert len(storm) == 12
        for chat in CHATS:
            inbound = [m.text for m in await gw.inbound(chat)]
            # Stored once each, whatever the order and number of deliveries.
            assert sorted(inbound) == sorted(f"q{n} {chat}" for n in range(4)), inbound
            if chat == BLOCKED:
                assert gw.api.sent_texts(chat) == []
                outbound = [m for m in await gw.history(chat) if m.direction == "out"]
                assert outbound and all(m.status == "undelivered" for m in outbound)
                continue
            # Answered once each, in the order they were stored.
            assert gw.api.sent_texts(chat) == [f"echo: {text}" for text in inbound]
