"""Two gateway replicas in one test process, sharing PostgreSQL and a throwaway Redis,
answered by the scripted Rasa of tests/gateway_harness.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
import yaml
from sqlalchemy import select

from bot.app import create_app
from bot.db import make_engine, make_session_factory
from bot.local_stack import free_port
from bot.ratelimit import FLOOD_NOTICE
from bot.replicas import ReplicaPrerequisiteError
from bot.settings import Settings
from bot.transcript.models import Message
from tests.gateway_harness import ChatClient, Gateway, ScriptedRasa, serve
from tests.staff.test_console import Agent, add_user, next_matching


@dataclass
class Replicas:
    a: Gateway
    b: Gateway
    rasa: ScriptedRasa


@asynccontextmanager
async def two_replicas(
    tmp_path: Path, database_url: str, redis_url: str, prefix: str,
    handoff_policy: dict[str, Any] | None = None, **extra: Any
) -> AsyncIterator[Replicas]:
    rasa = ScriptedRasa()
    if handoff_policy is not None:
        extra["handoff_policy"] = tmp_path / "handoff.yml"
        extra["handoff_policy"].write_text(yaml.safe_dump(handoff_policy))
    rasa_port = free_port()
    gateways: list[Gateway] = []
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(serve(rasa.app(), rasa_port))
        for replica in ("1", "2"):
            port = free_port()
            settings = Settings(
                password_min_length=8, home=tmp_path, database_url=database_url, secret_key="test-secret",
                rasa_url=f"http://127.0.0.1:{rasa_port}", rasa_timeout_seconds=3.0, port=port,
                csat_enabled=False, redis_url=redis_url, redis_prefix=prefix, replica=replica, **extra,
            )
            await stack.enter_async_context(serve(create_app(settings), port))
            gateways.append(Gateway(f"http://127.0.0.1:{port}", rasa, settings))
        yield Replicas(gateways[0], gateways[1], rasa)


def inbound_rows(database_url: str) -> list[Message]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    engine.dispose()
    return rows


async def texts_until(client: ChatClient, count: int, timeout: float = 15) -> list[str]:
    texts: list[str] = []
    while len(texts) < count:
        texts.append((await client.next_of("bot_uttered", timeout))["text"])
    return texts


async def test_a_customer_on_replica_a_is_answered_once_and_in_order_while_b_runs(
    tmp_path: Path, postgresql_url_clean: str, redis_url: str, redis_prefix: str
) -> None:
    async with two_replicas(tmp_path, postgresql_url_clean, redis_url, redis_prefix) as replicas:
        alice, bob = ChatClient(), ChatClient()
        session = await alice.connect(replicas.a.url)
        await bob.connect(replicas.b.url)
        # Slow answers first, so later messages are stored while earlier turns still run.
        first = [f"slow:0.{n % 3} a{n}" for n in range(6)]
        acks = await asyncio.gather(*(alice.say(text, message_id=f"a-{n}") for n, text in enumerate(first)),
                                    *(bob.say(f"b{n}") for n in range(4)))
        assert all(ack["status"] == "stored" for ack in acks)
        assert await texts_until(alice, 6) == [f"echo: {text}" for text in first]
        assert await texts_until(bob, 4) == [f"echo: b{n}" for n in range(4)]

        # Alice's connection moves to replica B mid-conversation (same signed session).
        await alice.close()
        moved = ChatClient()
        assert await moved.connect(replicas.b.url, session) == session
        later = [f"slow:0.1 c{n}" for n in range(3)]
        for n, text in enumerate(later):
            await moved.say(text, message_id=f"c-{n}")
        assert await texts_until(moved, 3) == [f"echo: {text}" for text in later]
        await moved.close()
        await bob.close()

    rows = inbound_rows(postgresql_url_clean)
    inbound = [row for row in rows if row.direction == "in"]
    assert len(inbound) == 13 and all(row.status == "answered" for row in inbound)
    replies = [row for row in rows if row.direction == "out"]
    assert sorted(row.reply_to_id for row in replies) == sorted(row.id for row in inbound)  # once each
    assert len(replicas.rasa.calls) == 13


async def test_an_agent_console_on_replica_b_hears_a_customer_on_replica_a(
    tmp_path: Path, postgresql_url_clean: str, redis_url: str, redis_prefix: str
) -> None:
    async with two_replicas(tmp_path, postgresql_url_clean, redis_url, redis_prefix) as replicas:
        add_user(postgresql_url_clean, "ana@example.com", "Ana")
        customer = ChatClient()
        await customer.connect(replicas.a.url)
        await customer.say("human please, my parcel is lost")
        assert (await customer.next_of("bot_uttered"))["text"] == "I'm passing this to a colleague."

        ana = Agent(replicas.b, "ana@example.com")
        await ana.login()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        console = await ana.console_socket(events)
        queue = (await ana.http.get("/api/queue")).json()["queue"]
        ticket_id = queue[0]["id"]
        assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        assert "has joined the chat" in (await customer.next_of("bot_uttered", 10))["text"] or \
            "has joined the chat" in (await customer.next_of("bot_uttered", 10))["text"]
        await console.call("watch", {"ticket_id": ticket_id}, namespace="/console")

        await customer.say("It was due on Monday")  # stored and routed on replica A
        pushed = await next_matching(events, "ticket_message", "It was due on Monday")
        assert pushed["ticket_id"] == ticket_id

        # The agent's reply, sent through replica B, reaches the customer on replica A.
        assert (await ana.post(f"/api/tickets/{ticket_id}/messages", {"text": "Looking into it now."})).status_code == 201
        reply = await customer.next_of("bot_uttered")
        assert reply["text"] == "Looking into it now."
        await console.disconnect()
        await customer.close()
        await ana.http.aclose()


async def test_a_flooding_customer_is_refused_on_every_replica_and_others_are_still_answered(
    tmp_path: Path, postgresql_url_clean: str, redis_url: str, redis_prefix: str
) -> None:
    async with two_replicas(tmp_path, postgresql_url_clean, redis_url, redis_prefix,
                            chat_messages_per_conversation=5, chat_window_seconds=30) as replicas:
        flooder, normal = ChatClient(), ChatClient()
        session = await flooder.connect(replicas.a.url)
        await normal.connect(replicas.b.url)
        acks = [await flooder.say(f"spam {n}") for n in range(5)]
        assert all(ack["status"] == "stored" for ack in acks)
        refused = await flooder.say("spam 5")
        assert refused == {"status": "refused", "reason": FLOOD_NOTICE}
        notice = await flooder.next_of("helpline_notice")
        assert notice == {"type": "rate_limited", "text": FLOOD_NOTICE}
        # The same conversation through the other replica counts against the same limit.
        other_door = ChatClient()
        await other_door.connect(replicas.b.url, session)
        assert (await other_door.say("spam 6"))["status"] == "refused"
        # A normal customer keeps being answered meanwhile.
        await normal.say("where is my order?")
        assert (await normal.next_of("bot_uttered"))["text"] == "echo: where is my order?"
        for client in (flooder, normal, other_door):
            await client.close()
    stored = [row.text for row in inbound_rows(postgresql_url_clean) if row.direction == "in"]
    assert sorted(t for t in stored if t.startswith("spam")) == [f"spam {n}" for n in range(5)]


async def test_replicas_refuse_sqlite_and_a_missing_redis(tmp_path: Path, redis_url: str) -> None:
    sqlite = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}", replica="1",
                      redis_url=redis_url, secret_key="k")
    with pytest.raises(ReplicaPrerequisiteError, match="replicas need PostgreSQL"):
        create_app(sqlite)
    no_redis = Settings(home=tmp_path, database_url="postgresql://postgres@127.0.0.1:1/none", replica="1",
                        secret_key="k")
    with pytest.raises(ReplicaPrerequisiteError, match="replicas need Redis"):
        create_app(no_redis)
    dead_redis = no_redis.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with pytest.raises(ReplicaPrerequisiteError, match="does not answer"):
        create_app(dead_redis)


async def test_an_agent_console_moving_to_the_other_replica_keeps_its_chats(
    tmp_path: Path, postgresql_url_clean: str, redis_url: str, redis_prefix: str
) -> None:
    async with two_replicas(tmp_path, postgresql_url_clean, redis_url, redis_prefix,
                            handoff_policy={"agent_grace": "1s"}) as replicas:
        add_user(postgresql_url_clean, "cy@example.com", "Cy")
        customer = ChatClient()
        await customer.connect(replicas.a.url)
        await customer.say("human please")
        await customer.next_of("bot_uttered")
        await customer.next_of("bot_uttered")
        cy = Agent(replicas.a, "cy@example.com")
        await cy.login()
        on_a = await cy.console_socket(asyncio.Queue())
        ticket_id = (await cy.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await cy.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        assert "joined" in (await customer.next_of("bot_uttered"))["text"]

        # Replica A goes away for this console; it reconnects through replica B at once.
        await on_a.disconnect()
        on_b = socketio.AsyncClient(reconnection=False)
        cookie = "; ".join(f"{k}={v}" for k, v in cy.http.cookies.items())
        await on_b.connect(replicas.b.url, headers={"Cookie": cookie}, auth={"csrf_token": cy.csrf},
                           namespaces=["/console"], transports=["websocket"])
        await asyncio.sleep(2.5)  # A's grace period (1 s) ran out meanwhile
        assert customer.events.empty(), await customer.next_event()  # no "back in the queue"
        assert (await cy.post(f"/api/tickets/{ticket_id}/messages", {"text": "still here"})).status_code == 201
        assert (await customer.next_of("bot_uttered"))["text"] == "still here"
        await on_b.disconnect()
        await customer.close()
        await cy.http.aclose()
