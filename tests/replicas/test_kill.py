"""kill -9 of one gateway replica and one Rasa replica under `helpline run --replicas 2`,
in the middle of 20 customers' conversations: nothing lost, nothing answered twice, the
customers reconnect through HAProxy and carry on, and `run` restarts both processes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from typing import Any

import pytest

from tests.replicas.run_harness import (
    Customer,
    ReplicaRun,
    check_stored_once_answered_once_in_order,
    conversation_rows,
    replicas_running,
    wait_until_answered,
)
from tests.replicas.test_run_replicas import QUESTIONS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str) -> Any:
    with replicas_running(tmp_path_factory.mktemp("replicas-kill"), postgres_url, redis_url) as running:
        yield running


async def test_kill_a_gateway_and_a_rasa_replica_under_load(replicas: ReplicaRun) -> None:
    rng = random.Random(11)
    customers = [
        Customer(f"k{i}", [rng.choice(QUESTIONS) for _ in range(6)], replicas.url) for i in range(20)
    ]
    gateway_1, rasa_1 = replicas.gateway_pid(1), replicas.rasa_pid(1)
    load = asyncio.gather(*(c.converse() for c in customers))
    # Once every customer has a conversation going, kill both in the middle of the load.
    while sum(c.answered for c in customers) < 30:
        await asyncio.sleep(0.1)
    os.kill(gateway_1, signal.SIGKILL)
    os.kill(rasa_1, signal.SIGKILL)
    await load

    ids = [c.conversation_id for c in customers]
    await wait_until_answered(replicas.database_url, ids)
    rows = conversation_rows(replicas.database_url, [c.conversation_id for c in customers])
    for customer in customers:
        assert customer.answered == len(customer.questions), customer.name
        check_stored_once_answered_once_in_order(customer, rows[customer.conversation_id])
    assert any(c.reconnects for c in customers), "no customer was on the killed gateway"

    # `run` restarted both while the others kept serving; the rest was never restarted.
    await asyncio.to_thread(replicas.run.wait_for, "gateway-1 is back (restart 1)", 240)
    await asyncio.to_thread(replicas.run.wait_for, "rasa-1 is back (restart 1)", 240)
    assert "gateway-2 exited" not in replicas.run.output and "rasa-2 exited" not in replicas.run.output
    assert replicas.gateway_pid(1) != gateway_1
    for customer in customers:
        await customer.close()
