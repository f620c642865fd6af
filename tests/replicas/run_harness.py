"""`helpline run --replicas 2` for the replica tests: the real command, its real processes
(HAProxy, 2 gateways, 2 Rasa servers, 2 action servers) on free ports, a throwaway
PostgreSQL database and a throwaway redis-server; plus customers that survive a
replica's death (reconnect, resend with the same message id) and the database checks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from sqlalchemy import create_engine, text

from bot.local_stack import OUTPUT, SupervisedRun, free_port_block, make_stack, pid_of
from bot.pipeline import SAVED_NOTICE

REPLICAS = 2
DISCONNECTED = "__disconnected__"


@dataclass
class ReplicaRun:
    run: SupervisedRun
    env: dict[str, str]
    database_url: str
    port: int
    rasa_port: int
    action_port: int

    @property
    def url(self) -> str:
        """The load balancer: what customers and staff use."""
        return f"http://127.0.0.1:{self.port}"

    def gateway_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port + index}"

    def gateway_pid(self, index: int) -> int:
        return pid_of(self.port + index, "gateway")

    def rasa_pid(self, index: int) -> int:
        return pid_of(self.rasa_port + index - 1, "rasa")


@contextmanager
def replicas_running(tmp_path: Path, postgres_url: str, redis_url: str) -> Iterator[ReplicaRun]:
    port = free_port_block(REPLICAS + 1)
    rasa_port = free_port_block(REPLICAS)
    action_port = free_port_block(REPLICAS + 1)
    stack = make_stack(tmp_path, database_url=postgres_url, redis_url=redis_url)  # prepare
    env = {
        **stack.env,
        "HELPLINE_PORT": str(port),
        "HELPLINE_RASA_PORT": str(rasa_port),
        "HELPLINE_ACTION_PORT": str(action_port),
        "HELPLINE_REDIS_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
        # Every test customer comes from 127.0.0.1: the per-IP limits are not under test.
        "HELPLINE_CHAT_NEW_CONVERSATIONS_PER_IP": "0",
        "HELPLINE_CHAT_MESSAGES_PER_IP": "0",
    }
    run = SupervisedRun(env, "--replicas", str(REPLICAS))
    try:
        run.wait_for("Helpline is ready", timeout=420)
        yield ReplicaRun(run, env, postgres_url, port, rasa_port, action_port)
    finally:
        code = run.interrupt()
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / f"run-replicas-{tmp_path.name}.log").write_text(run.output)
        assert code == 0, run.output[-3000:]


@dataclass
class Customer:
    """A web customer who asks its questions in order, waiting for each answer.

    If its connection drops (its gateway replica died), it reconnects through the load
    balancer with its signed conversation id and resends the message it was sending with
    the same message id: the gateway stores it once and, if it was already answered,
    sends the stored answer again.
    """

    name: str
    questions: list[str]
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    signed: str | None = None
    reconnects: int = 0
    answered: int = 0

    def __post_init__(self) -> None:
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._sio: socketio.AsyncClient | None = None

    @property
    def conversation_id(self) -> str:
        assert self.signed is not None
        return self.signed.split(".")[0]

    async def connect(self, url: str | None = None) -> None:
        if self._sio is not None:
            await self._sio.disconnect()
        sio = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Queue[str] = asyncio.Queue()

        async def uttered(data: dict[str, Any]) -> None:
            self.received.append(data)
            await self._replies.put(data)

        async def disconnected(*_: Any) -> None:
            await self._replies.put({DISCONNECTED: sio})

        sio.on("bot_uttered", uttered)
        sio.on("session_confirm", confirmed.put)
        sio.on("disconnect", disconnected)
        await sio.connect(url or self.url, transports=["websocket"], wait_timeout=10)
        await sio.emit("session_request", {"session_id": self.signed})
        signed = await asyncio.wait_for(confirmed.get(), 10)
        assert self.signed is None or signed == self.signed, "the conversation changed on reconnect"
        self.signed = signed
        self._sio = sio

    async def _reconnect(self, deadline: float) -> None:
        while True:
            self.reconnects += 1
            try:
                await self.connect(self.url)
                return
            except (socketio.exceptions.ConnectionError, asyncio.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def ask(self, index: int, question: str, timeout: float = 90.0) -> None:
        """Send one question and wait for the first message answering it.

        Leftovers of the previous turn (its trailing messages, stored answers sent again
        after a resend) are dropped first; ``received`` keeps everything."""
        deadline = time.monotonic() + timeout
        message_id = f"{self.name}-{index}"
        while not self._replies.empty():
            self._replies.get_nowait()
        while True:
            assert self._sio is not None
            try:
                ack = await self._sio.call(
                    "user_uttered", {"message": question, "message_id": message_id}, timeout=10
                )
                assert ack["status"] == "stored", ack
                while True:
                    event = await asyncio.wait_for(self._replies.get(), max(1.0, deadline - time.monotonic()))
                    if event.get("text") == SAVED_NOTICE:
                        continue  # the turn will be retried: wait for the real answer
                    if DISCONNECTED not in event:
                        self.answered += 1
                        return
                    if event[DISCONNECTED] is self._sio:
                        raise socketio.exceptions.DisconnectedError()
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                    socketio.exceptions.DisconnectedError, asyncio.TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"{message_id} never answered") from None
                # Our gateway died (or the call got no acknowledgement): reconnect through
                # the balancer and send the same message id again; a stored message is
                # acknowledged as a duplicate and its stored answer, if any, sent again.
                await self._reconnect(deadline)

    async def converse(self, pause: float = 0.2, switch_to: str | None = None) -> None:
        """Ask every question; halfway, optionally move to another gateway replica."""
        await self.connect()
        for index, question in enumerate(self.questions):
            if switch_to is not None and index == len(self.questions) // 2:
                await asyncio.sleep(1.0)  # the last answer's trailing messages arrive first
                await self.connect(switch_to)
            await self.ask(index, question)
            await asyncio.sleep(pause)
        await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._sio is not None:
            await self._sio.disconnect()


def conversation_rows(database_url: str, conversation_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every message of these conversations, in stored order."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with engine.connect() as connection:
        result = connection.execute(
            text(
                "SELECT id, conversation_id, direction, text, status, reply_to_id, client_message_id "
                "FROM messages WHERE conversation_id = ANY(:ids) ORDER BY id"
            ),
            {"ids": conversation_ids},
        )
        for row in result.mappings():
            rows[row["conversation_id"]].append(dict(row))
    engine.dispose()
    return rows


async def wait_until_answered(database_url: str, conversation_ids: list[str], timeout: float = 60.0) -> None:
    """Until no customer message of these conversations is still waiting (a message stored
    by a killed replica is answered by another once its lease expires)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await asyncio.to_thread(conversation_rows, database_url, conversation_ids)
        if not any(r["direction"] == "in" and r["status"] == "received" for c in rows.values() for r in c):
            return
        await asyncio.sleep(1.0)


def check_stored_once_answered_once_in_order(customer: Customer, rows: list[dict[str, Any]]) -> None:
    inbound = [r for r in rows if r["direction"] == "in"]
    # Stored once, in the order asked.
    assert [r["text"] for r in inbound] == customer.questions, (customer.name, inbound)
    assert len({r["client_message_id"] for r in inbound}) == len(inbound)
    for message in inbound:
        assert message["status"] == "answered", (customer.name, message)
        replies = [r for r in rows if r["reply_to_id"] == message["id"]]
        assert replies, (customer.name, message)
        # Answered once: one turn's messages, none repeated.
        texts = [r["text"] for r in replies]
        assert len(texts) == len(set(texts)), (customer.name, message["text"], texts)
    # In order: every answer comes after its question and before the next question.
    answered_before = [max(r["id"] for r in rows if r["reply_to_id"] == m["id"]) for m in inbound]
    assert all(answer < later["id"] for answer, later in zip(answered_before, inbound[1:])), customer.name
