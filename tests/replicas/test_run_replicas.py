"""`helpline run --replicas 2` through HAProxy, with the real Rasa model: many customers,
some moving to the other gateway replica mid-conversation; an agent on one replica and a
customer on the other; and the refusal on SQLite or without Redis."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.local_stack import PROJECT, free_port
from tests.replicas.run_harness import (
    Customer,
    ReplicaRun,
    check_stored_once_answered_once_in_order,
    conversation_rows,
    replicas_running,
)
from tests.staff.test_console import Agent, add_user

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

QUESTIONS = [
    "how do I cancel my order", "do you ship to Ireland?", "what payment methods do you accept?",
    "how long does a refund take", "can I change my delivery address", "hello", "where is my parcel",
]


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str
) -> Any:
    with replicas_running(tmp_path_factory.mktemp("replicas"), postgres_url, redis_url) as running:
        yield running


def customers_for(run: ReplicaRun, count: int, per_customer: int, seed: int) -> list[Customer]:
    rng = random.Random(seed)
    return [
        Customer(f"c{seed}-{i}", [rng.choice(QUESTIONS) for _ in range(per_customer)], run.url)
        for i in range(count)
    ]


async def test_twenty_customers_some_moving_replica_each_message_once_in_order(replicas: ReplicaRun) -> None:
    customers = customers_for(replicas, 20, 4, seed=1)
    movers = customers[::4]  # these start on gateway 1 and move to gateway 2 halfway
    for mover in movers:
        mover.url = replicas.gateway_url(1)

    async def converse(customer: Customer) -> None:
        switch = replicas.gateway_url(2) if customer in movers else None
        await customer.converse(switch_to=switch)

    await asyncio.gather(*(converse(c) for c in customers))
    rows = conversation_rows(replicas.database_url, [c.conversation_id for c in customers])
    for customer in customers:
        conversation = rows[customer.conversation_id]
        check_stored_once_answered_once_in_order(customer, conversation)
        # The customer saw every stored answer once, in the stored order, including the
        # movers, whose later answers were written by whichever replica held the turn.
        stored = [r["text"] for r in conversation if r["direction"] == "out"]
        assert [m["text"] for m in customer.received] == stored, customer.name
    for customer in customers:
        await customer.close()


async def test_agent_on_one_replica_takes_over_a_customer_on_the_other(replicas: ReplicaRun) -> None:
    add_user(replicas.database_url, "ana@example.com", "Ana")
    customer = Customer("takeover", [], replicas.gateway_url(2))
    await customer.connect()
    await customer.ask(0, "I want to talk to a human, my order is wrong")
    await asyncio.sleep(1.0)
    notices = " ".join(m["text"] for m in customer.received)
    assert re.search(r"ticket number is HL-\d+", notices), notices

    ana = Agent(SimpleNamespace(url=replicas.gateway_url(1)), "ana@example.com")  # type: ignore[arg-type]
    await ana.login()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    console = await ana.console_socket(events)
    queue = (await ana.http.get("/api/queue")).json()["queue"]
    ticket_id = next(t["id"] for t in queue if t["conversation_id"] == customer.conversation_id)
    assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
    await console.call("watch", {"ticket_id": ticket_id}, namespace="/console")

    def seen(text: str) -> bool:
        return any(text in m["text"] for m in customer.received)

    for _ in range(50):  # the joined notice crosses from replica 1 to the customer on 2
        if seen("has joined the chat"):
            break
        await asyncio.sleep(0.1)
    assert seen("has joined the chat"), customer.received

    sent = await ana.post(f"/api/tickets/{ticket_id}/messages", {"text": "Hi, Ana here from replica one."})
    assert sent.status_code == 201
    for _ in range(50):
        if seen("Hi, Ana here from replica one."):
            break
        await asyncio.sleep(0.1)
    assert seen("Hi, Ana here from replica one."), customer.received

    assert customer._sio is not None
    await customer._sio.call("user_uttered", {"message": "It arrived broken", "message_id": "t-1"}, timeout=10)
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        event, data = await asyncio.wait_for(events.get(), deadline - asyncio.get_running_loop().time())
        if event == "ticket_message" and data["message"]["text"] == "It arrived broken":
            break
    await console.disconnect()
    await ana.http.aclose()
    await customer.close()


def refused(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HELPLINE_HOME": str(PROJECT),
        "HELPLINE_VAR_DIR": str(tmp_path), "HELPLINE_PORT": str(free_port()),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--replicas", "2"], cwd=PROJECT, env={**base, **env},
        capture_output=True, text=True, timeout=60,
    )


def test_replicas_on_sqlite_are_refused(tmp_path: Path, redis_url: str) -> None:
    result = refused(tmp_path, {"DATABASE_URL": f"sqlite:///{tmp_path}/h.db", "REDIS_URL": redis_url})
    assert result.returncode == 2
    assert "replicas need PostgreSQL" in result.stderr and "DATABASE_URL" in result.stderr
    assert not (tmp_path / "haproxy.cfg").exists()  # nothing was started


def test_replicas_without_redis_are_refused(tmp_path: Path, postgres_url: str) -> None:
    result = refused(tmp_path, {"DATABASE_URL": postgres_url})
    assert result.returncode == 2
    assert "replicas need Redis" in result.stderr and "REDIS_URL" in result.stderr
    unreachable = refused(tmp_path, {"DATABASE_URL": postgres_url, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert unreachable.returncode == 2 and "REDIS_URL does not answer" in unreachable.stderr
