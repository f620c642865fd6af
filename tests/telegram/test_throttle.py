"""Pacing: about one message a second per chat, a ceiling across all chats."""

from __future__ import annotations

import asyncio

from bot.channels.telegram.throttle import SendThrottle


async def _times(throttle: SendThrottle, chats: list[int], **kwargs: bool) -> list[tuple[int, float]]:
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(chat: int) -> tuple[int, float]:
        await throttle.wait_turn(chat, **kwargs)
        return chat, loop.time() - start

    return list(await asyncio.gather(*(one(c) for c in chats)))


async def test_one_chat_is_spaced_and_other_chats_do_not_wait_for_it() -> None:
    throttle = SendThrottle(per_chat_interval=0.2, per_second=1000)
    times = await _times(throttle, [1, 1, 1, 2])
    first_chat = sorted(t for chat, t in times if chat == 1)
    assert first_chat[1] - first_chat[0] >= 0.19 and first_chat[2] - first_chat[1] >= 0.19
    assert [t for chat, t in times if chat == 2][0] < 0.1


async def test_the_overall_rate_holds_across_chats() -> None:
    throttle = SendThrottle(per_chat_interval=1.0, per_second=20)
    times = sorted(t for _, t in await _times(throttle, list(range(10))))
    assert times[-1] >= 9 * 0.05 - 0.01  # ten chats at 20/s take at least 0.45 s
    assert all(b - a >= 0.045 for a, b in zip(times, times[1:]))


async def test_edits_skip_the_chat_interval_and_a_hold_delays_the_chat() -> None:
    throttle = SendThrottle(per_chat_interval=5.0, per_second=1000)
    await throttle.wait_turn(1)
    assert max(t for _, t in await _times(throttle, [1, 1], counts_for_chat=False)) < 0.1
    throttle.hold_chat(2, 0.3)
    assert (await _times(throttle, [2]))[0][1] >= 0.29
