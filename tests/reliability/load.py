"""Closed-loop web customers that survive a gateway restart, and the database audit that
says whether every message was stored once, answered once and in order.

A customer sends a message with its own client id, waits for the acknowledgement (sent
once the message is stored) and for the bot's answer, then sends the next. When the
connection drops it reconnects with its signed conversation id and sends the message
again with the same client id (the gateway acknowledges a stored one as a duplicate and
re-sends its answer), as the chat page does. Used by tests/reliability and
scripts/reliability.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import socketio
from sqlalchemy import create_engine, text


@dataclass
class CustomerLog:
    name: str
    conversation: str | None = None
    sent: list[str] = field(default_factory=list)  # client ids acknowledged as stored, in order
    answered: list[str] = field(default_factory=list)  # client ids a bot answer was seen for
    refused: list[str] = field(default_factory=list)  # acknowledgement said refused/error
    unanswered: list[str] = field(default_factory=list)  # no answer within the wait
    notices: list[str] = field(default_factory=list)  # what the customer was told meanwhile
    reconnects: int = 0
    bot_texts: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, text) of every bot message
    latencies: list[float] = field(default_factory=list)
    # When a fault was injected, how long this customer waited for its next answer.
    gap_answers: list[tuple[float, float]] = field(default_factory=list)  # (sent at, answered at)


class WebCustomer:
    def __init__(self, url: str, name: str, answer_timeout: float = 60.0, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.log = CustomerLog(name)
        self.answer_timeout = answer_timeout
        self.headers = headers or {}
        self._sio: socketio.AsyncClient | None = None
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._signed: str | None = None

    async def _connect(self, deadline: float) -> None:
        while True:
            sio = socketio.AsyncClient(reconnection=False)
            confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

            async def on_confirm(data: Any) -> None:
                if not confirmed.done():
                    confirmed.set_result(str(data))

            async def on_bot(data: Any) -> None:
                if isinstance(data, dict):
                    self.log.bot_texts.append((time.monotonic(), str(data.get("text", ""))))
                await self._answers.put(data)

            async def on_notice(data: Any) -> None:
                if isinstance(data, dict) and data.get("text"):
                    self.log.notices.append(str(data["text"]))

            sio.on("session_confirm", on_confirm)
            sio.on("bot_uttered", on_bot)
            sio.on("helpline_notice", on_notice)
            try:
                await sio.connect(self.url, transports=["websocket"], headers=self.headers, wait_timeout=10)
                await sio.emit("session_request", {"session_id": self._signed})
                self._signed = await asyncio.wait_for(confirmed, 10)
                self._sio = sio
                return
            except Exception:
                try:
                    await sio.disconnect()
                except Exception:
                    pass
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def start(self) -> None:
        await self._connect(time.monotonic() + 60)
        self.log.conversation = self._signed

    async def say(self, text_: str, client_id: str) -> None:
        """Send until stored (reconnecting as needed), then wait for the answer."""
        deadline = time.monotonic() + self.answer_timeout * 3
        started = time.monotonic()
        while True:
            assert self._sio is not None
            try:
                while not self._answers.empty():
                    self._answers.get_nowait()  # late extras of the previous turn
                ack = await self._sio.call("user_uttered", {"message": text_, "message_id": client_id}, timeout=20)
            except Exception:
                if time.monotonic() > deadline:
                    self.log.unanswered.append(client_id)
                    return
                await self._reconnect(deadline)
                continue
            if not isinstance(ack, dict) or ack.get("status") != "stored":
                self.log.refused.append(client_id)
                return
            if client_id not in self.log.sent:  # a re-send after a lost acknowledgement
                self.log.sent.append(client_id)
            break
        try:
            await asyncio.wait_for(self._answers.get(), self.answer_timeout)
            now = time.monotonic()
            self.log.answered.append(client_id)
            self.log.latencies.append(now - started)
            self.log.gap_answers.append((started, now))
        except asyncio.TimeoutError:
            self.log.unanswered.append(client_id)

    async def _reconnect(self, deadline: float) -> None:
        self.log.reconnects += 1
        if self._sio is not None:
            try:
                await self._sio.disconnect()
            except Exception:
                pass
        await self._connect(deadline)

    async def close(self) -> None:
        if self._sio is not None:
            try:
                await self._sio.disconnect()
            except Exception:
                pass


async def run_customers(
    url: str, customers: int, messages: int, text_for: Callable[[int, int], str],
    answer_timeout: float = 60.0, pause: float = 0.0, start_spread: float = 0.0,
    prefix: str = "", live: list[CustomerLog] | None = None,
) -> list[CustomerLog]:
    """``prefix`` keeps client ids unique across runs on one database; ``live`` receives
    each customer's log as it starts, for a caller that watches progress."""

    async def one(index: int) -> CustomerLog:
        await asyncio.sleep(start_spread * index / max(1, customers))
        customer = WebCustomer(url, f"{prefix}c{index}", answer_timeout)
        if live is not None:
            live.append(customer.log)
        await customer.start()
        try:
            for n in range(messages):
                await customer.say(text_for(index, n), f"{prefix}c{index}-m{n}")
                if pause:
                    await asyncio.sleep(pause)
        finally:
            await customer.close()
        return customer.log

    return list(await asyncio.gather(*(one(i) for i in range(customers))))


@dataclass
class Audit:
    """What the database says about the messages of some conversations."""

    stored: int = 0
    duplicates_stored: int = 0  # same client id stored twice (impossible by constraint)
    answered_twice: int = 0  # an inbound message with the same bot text twice among its replies
    not_answered: list[tuple[str, str]] = field(default_factory=list)  # (key, status)
    # Not answered by the bot because the conversation went to the queue (a ticket): the
    # bot is silent there by design (bot_error after Rasa failed twice, or a request).
    handed_over: list[tuple[str, str]] = field(default_factory=list)
    out_of_order: int = 0  # a reply to a later message stored before a reply to an earlier one
    missing: list[str] = field(default_factory=list)  # acknowledged by the client, not in the database

    def lines(self) -> list[str]:
        return [f"stored {self.stored}, missing {len(self.missing)}, duplicates {self.duplicates_stored}, "
                f"answered twice {self.answered_twice}, not answered {len(self.not_answered)}, "
                f"handed to the queue {len(self.handed_over)}, "
                f"out of order {self.out_of_order}"]


def _driver_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def audit(database_url: str, logs: list[CustomerLog], channel: str = "web", key: str = "client_message_id") -> Audit:
    """Compare what the clients saw with what the database holds. ``key``: the column that
    names a client's message (web: its client id; Telegram: the unique text we sent)."""
    result = Audit()
    sent_by_text = {sent for log in logs for sent in log.sent}
    engine = create_engine(_driver_url(database_url))
    try:
        with engine.connect() as connection:
            queued = {row[0] for row in connection.execute(text(
                "SELECT conversation_id FROM conversation_owners WHERE owner <> 'bot'"))}
            rows = connection.execute(text(
                "SELECT m.id, m.conversation_id, m.direction, m.text, m.status, m.reply_to_id, m.client_message_id "
                "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.channel = :channel ORDER BY m.id"
            ), {"channel": channel}).all()
    finally:
        engine.dispose()
    inbound = [r for r in rows if r.direction == "in"]
    replies: dict[int, list[Any]] = {}
    for row in rows:
        if row.direction == "out" and row.reply_to_id is not None:
            replies.setdefault(row.reply_to_id, []).append(row)
    def key_of(row: Any) -> str:
        return str(getattr(row, key))

    stored_texts = Counter(key_of(r) for r in inbound)
    result.stored = sum(1 for r in inbound if key_of(r) in sent_by_text)
    client_ids = Counter((r.conversation_id, r.client_message_id) for r in inbound if r.client_message_id)
    result.duplicates_stored = sum(count - 1 for count in client_ids.values() if count > 1)
    result.missing = [t for t in sent_by_text if stored_texts[t] == 0]
    by_conversation: dict[str, list[Any]] = {}
    for row in inbound:
        if key_of(row) not in sent_by_text:
            continue
        texts = Counter(reply.text for reply in replies.get(row.id, []))
        if any(count > 1 for count in texts.values()):
            result.answered_twice += 1
        if row.status != "answered" or not replies.get(row.id):
            if row.conversation_id in queued:
                result.handed_over.append((key_of(row), row.status))
            else:
                result.not_answered.append((key_of(row), row.status))
        by_conversation.setdefault(row.conversation_id, []).append(row)
    for messages in by_conversation.values():
        last_reply = 0
        for row in messages:
            ids = [reply.id for reply in replies.get(row.id, [])]
            if not ids:
                continue
            if min(ids) < last_reply:
                result.out_of_order += 1
            last_reply = max(ids)
    return result


def client_order_ok(log: CustomerLog) -> bool:
    """The client sent in order and saw an answer after each message, in the same order."""
    return log.answered == [t for t in log.sent if t in set(log.answered)]
