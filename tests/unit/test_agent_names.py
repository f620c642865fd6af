"""AgentNames: an agent's display name from the users table, cached for a short TTL."""

from __future__ import annotations

from bot.agent_names import FALLBACK_NAME, AgentNames


class Users:
    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.reads = 0
        self.down = False

    async def load(self, agent_id: int) -> str | None:
        self.reads += 1
        if self.down:
            raise ConnectionError("database unreachable")
        return self.names.get(agent_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_name_nobody_cached_is_read_from_the_users_table() -> None:
    users = Users({7: "Dana"})
    names = AgentNames(users.load)  # a replica the agent's console never connected to
    assert await names(7) == "Dana"


async def test_within_the_ttl_one_read_then_a_rename_shows_after_it() -> None:
    users, clock = Users({7: "Dana"}), Clock()
    names = AgentNames(users.load, ttl_seconds=60, clock=clock)
    assert [await names(7) for _ in range(5)] == ["Dana"] * 5
    assert users.reads == 1
    users.names[7] = "Dana K."
    clock.now += 61
    assert await names(7) == "Dana K."
    assert users.reads == 2


async def test_unknown_agents_and_a_database_outage() -> None:
    users, clock = Users({7: "Dana"}), Clock()
    names = AgentNames(users.load, ttl_seconds=60, clock=clock)
    assert await names(99) == FALLBACK_NAME
    assert await names(7) == "Dana"
    users.down = True
    clock.now += 61
    assert await names(7) == "Dana"  # the last name known beats "An agent"
    assert await names(8) == FALLBACK_NAME


async def test_remembered_names_need_no_read() -> None:
    users = Users({})
    names = AgentNames(users.load)
    names.remember(3, "Ben")
    assert await names(3) == "Ben" and users.reads == 0
