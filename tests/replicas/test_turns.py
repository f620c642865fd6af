"""Conversation turns across two replicas (two SharedTurns on one Redis): every stored
message answered once, in stored order, whichever replica stored it; a dead holder's
conversation is taken over when its lease runs out."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bot.coordination.lease import Lease
from bot.coordination.turns import SharedTurns
from bot.transcript.store import StoredMessage
from tests.replicas.conftest import second_link


@dataclass
class FakeDatabase:
    """The transcript's part that turns depend on: messages and their 'received' status."""

    messages: dict[int, StoredMessage] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    answers: list[tuple[str, int]] = field(default_factory=list)  # (replica, message id)
    next_id: int = 1

    def store(self, conversation_id: str) -> StoredMessage:
        message = StoredMessage(
            id=self.next_id, conversation_id=conversation_id, channel="web", direction="in",
            author="customer", text=f"m{self.next_id}", status="received",
            created_at=datetime.now(timezone.utc),
        )
        self.next_id += 1
        self.messages[message.id] = message
        self.status[message.id] = "received"
        return message

    async def backlog(self, conversation_id: str) -> list[StoredMessage]:
        await asyncio.sleep(0)
        return [m for i, m in sorted(self.messages.items())
                if m.conversation_id == conversation_id and self.status[i] == "received"]

    def answerer(self, replica: str, slow: float = 0.0):  # type: ignore[no-untyped-def]
        async def answer(message: StoredMessage) -> None:
            await asyncio.sleep(random.uniform(0, slow))
            # Like record_outbound's conditional completion: a second answer is refused.
            if self.status[message.id] == "received":
                self.status[message.id] = "answered"
                self.answers.append((replica, message.id))

        return answer


async def test_messages_stored_on_two_replicas_are_answered_once_in_order(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    try:
        db = FakeDatabase()
        a, b = SharedTurns(link, lease_seconds=5), SharedTurns(other, lease_seconds=5)
        a.bind(db.answerer("A", slow=0.01), db.backlog)
        b.bind(db.answerer("B", slow=0.01), db.backlog)
        conversations = [f"c{n}" for n in range(4)]
        for _ in range(15):
            for conversation in conversations:
                replica = random.choice([a, b])
                replica.message_stored(db.store(conversation))
                await asyncio.sleep(random.uniform(0, 0.005))
        await asyncio.wait_for(_until(lambda: len(db.answers) == len(db.messages)), 20)
        await a.drain_all()
        await b.drain_all()
        answered = [message_id for _, message_id in db.answers]
        assert sorted(answered) == sorted(db.messages)  # each once
        for conversation in conversations:
            ids = [i for i in answered if db.messages[i].conversation_id == conversation]
            assert ids == sorted(ids), f"{conversation} answered out of order: {ids}"
        assert {replica for replica, _ in db.answers} == {"A", "B"}  # both did work
        assert await link.client.keys(f"{link.prefix}lease:*") == []  # every lease let go
    finally:
        await other.aclose()


async def test_a_message_stored_while_another_replica_answers_is_answered_by_the_holder(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    try:
        db = FakeDatabase()
        gate = asyncio.Event()

        async def slow_answer(message: StoredMessage) -> None:
            await gate.wait()
            await db.answerer("A")(message)

        a, b = SharedTurns(link, lease_seconds=5), SharedTurns(other, lease_seconds=5)
        a.bind(slow_answer, db.backlog)
        b.bind(db.answerer("B"), db.backlog)
        a.message_stored(db.store("c"))
        await _until(lambda: gate is not None and bool(a._executor.busy_keys))
        await asyncio.sleep(0.1)  # A holds the lease, its turn waits
        b.message_stored(db.store("c"))  # B stores the second message meanwhile
        await asyncio.sleep(0.2)
        assert db.answers == []  # B did not answer past A's turn
        gate.set()
        await asyncio.wait_for(_until(lambda: len(db.answers) == 2), 10)
        assert db.answers == [("A", 1), ("A", 2)]  # the holder answered both, in order
    finally:
        await other.aclose()


async def test_a_dead_holders_conversation_is_taken_over_when_its_lease_expires(link, redis_url) -> None:
    other = second_link(redis_url, link.prefix)
    try:
        db = FakeDatabase()
        b = SharedTurns(other, lease_seconds=5)
        b.bind(db.answerer("B"), db.backlog)
        first = db.store("c")
        # Replica A took the conversation's lease and died mid-turn (never renewed, never let go).
        dead = Lease(link, "turns:c", ttl_seconds=0.6)
        assert await dead.try_acquire()
        b.message_stored(db.store("c"))
        await asyncio.sleep(0.2)
        assert db.answers == []  # the lease is still the dead holder's
        await asyncio.sleep(0.6)
        b.message_stored(first)  # what the periodic sweep does for a message waiting too long
        await asyncio.wait_for(_until(lambda: len(db.answers) == 2), 10)
        assert db.answers == [("B", 1), ("B", 2)]
    finally:
        await other.aclose()


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        await asyncio.sleep(0.01)


async def test_one_replica_per_period_runs_the_desk_upkeep(link, redis_url) -> None:
    from bot.coordination.shared import Coordination

    other = second_link(redis_url, link.prefix)
    try:
        def replica(redis_link):  # type: ignore[no-untyped-def]
            return Coordination(redis_link, None, None, None, None, None)  # type: ignore[arg-type]

        a, b = replica(link), replica(other)
        assert [await a.my_turn_for_upkeep(2.0), await b.my_turn_for_upkeep(2.0)] == [True, False]
        await asyncio.sleep(1.1)  # the period's lease (1 s) ran out: the next round is anyone's
        assert await b.my_turn_for_upkeep(2.0) is True
        assert await replica(None).my_turn_for_upkeep(2.0) is True  # one gateway: always
    finally:
        await other.aclose()
