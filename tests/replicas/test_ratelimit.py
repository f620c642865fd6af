"""One window logic over both stores; the Redis store is shared by replicas."""

from __future__ import annotations

from bot.ratelimit import Limit, MemoryWindows, RateLimiter, RedisWindows
from staff.auth.throttle import LoginThrottle
from tests.replicas.conftest import second_link


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_and_redis_windows_give_the_same_answers(link) -> None:
    clock = Clock()
    limit = Limit(3, 100)
    memory, shared = RateLimiter(MemoryWindows(), clock), RateLimiter(RedisWindows(link), clock)
    seen = []
    for step in (0, 10, 10, 10, 69, 1, 0, 30):
        clock.now += step
        seen.append((await memory.hit("k", limit), await shared.hit("k", limit)))
    assert [m for m, _ in seen] == [s for _, s in seen]
    assert [m for m, _ in seen] == [None, None, None, 70, 1, None, 10, None]


async def test_login_attempts_on_two_replicas_share_one_count(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    try:
        a = LoginThrottle(max_failures=3, window_seconds=60, store=RedisWindows(link))
        b = LoginThrottle(max_failures=3, window_seconds=60, store=RedisWindows(other))
        key = a.key("ann@example.com", "203.0.113.9")
        assert await a.begin(key) is None
        assert await b.begin(key) is None
        assert await a.begin(key) is None
        assert await b.begin(key) is not None  # the fourth guess, on the other replica, waits
        await a.succeeded(key)
        assert await b.begin(key) is None
    finally:
        await other.aclose()


async def test_an_unreachable_store_admits_instead_of_failing(redis_url) -> None:
    from bot.coordination.redis_link import RedisLink
    from tests.replicas.conftest import _free_port

    dead = RedisLink.connect(f"redis://127.0.0.1:{_free_port()}/0", "x:")
    try:
        limiter = RateLimiter(RedisWindows(dead))
        assert await limiter.hit("k", Limit(1, 10)) is None
        assert await limiter.hit("k", Limit(1, 10)) is None  # nothing counted, nothing refused
    finally:
        await dead.aclose()
