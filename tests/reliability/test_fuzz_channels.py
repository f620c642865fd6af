"""Fuzz the customer channels: socket.io events (wrong types, unknown events, big and
binary payloads, floods) and the Telegram webhook. Zero 5xx, no crash, every refusal
with a reason, and a normal customer is still answered afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import httpx
import pytest
import socketio

from bot.channels.telegram import WEBHOOK_PATH
from tests.gateway_harness import ChatClient, running_gateway
from tests.reliability.channel_fuzz import UNKNOWN_EVENTS, socketio_payloads, valid_update, webhook_bodies
from tests.telegram.harness import WEBHOOK_SECRET, running_telegram_gateway

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REFUSALS = {"error": "error", "refused": "reason", "ignored": "reason"}


def assert_answer_has_a_reason(label: str, ack: object) -> None:
    assert isinstance(ack, dict), f"{label}: acknowledgement {ack!r}"
    status = ack.get("status")
    if status == "stored":
        assert isinstance(ack.get("message_id"), int), label
        return
    assert status in REFUSALS, f"{label}: {ack!r}"
    reason = ack.get(REFUSALS[status])
    assert isinstance(reason, str) and reason.strip(), f"{label}: refusal without a reason {ack!r}"


async def test_socketio_events_fuzz(tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    async with running_gateway(tmp_path, database_url) as gateway:
        fuzzer = ChatClient()
        await fuzzer.connect(gateway.url)
        tried = 0
        for label, payload in socketio_payloads():
            ack = await fuzzer.sio.call("user_uttered", payload, timeout=15)
            assert_answer_has_a_reason(label, ack)
            tried += 1
        assert tried > 150

        # Unknown events and server-only events sent by a client: ignored, the socket lives.
        for name in UNKNOWN_EVENTS:
            await fuzzer.sio.emit(name, {"message": "hi"})
        for payload in (None, 42, "x", [1], {"session_id": 123}, {"session_id": "f" * 5000}):
            await fuzzer.sio.emit("session_request", payload)
            await fuzzer.next_of("session_confirm")
        for payload in (None, 42, [1], {"x": 1}):
            await fuzzer.sio.emit("history_request", payload)
            await fuzzer.next_of("history")

        # A flood on one socket without waiting: every message is stored or refused with
        # a reason (the public chat's rate limit), and the loop never stalls.
        flood = await asyncio.gather(*(
            fuzzer.sio.call("user_uttered", {"message": f"flood {n}", "message_id": f"f{n}"}, timeout=60)
            for n in range(200)
        ))
        for n, ack in enumerate(flood):
            assert_answer_has_a_reason(f"flood {n}", ack)

        # An oversized frame (past the server's buffer) closes only that connection.
        big = socketio.AsyncClient(reconnection=False)
        await big.connect(gateway.url, transports=["websocket"])
        await big.emit("user_uttered", {"message": "x" * 3_000_000})
        for _ in range(100):
            if not big.connected:
                break
            await asyncio.sleep(0.05)
        await big.disconnect()

        # After all that, the fuzzing socket and a new customer are both answered.
        # (The fuzzing socket may still be inside its rate-limit window: a polite refusal.)
        assert_answer_has_a_reason("after the fuzz", await fuzzer.say("still there?", message_id="after-fuzz"))
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("hello after the fuzz")
        assert (await customer.next_of("bot_uttered"))["text"] == "echo: hello after the fuzz"
        async with httpx.AsyncClient() as http:
            assert (await http.get(gateway.url + "/healthz")).status_code == 200
        await customer.close()
        await fuzzer.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors[:5]]


async def test_telegram_webhook_fuzz(tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gateway:
        url = gateway.url + WEBHOOK_PATH
        statuses: dict[int, int] = {}
        async with httpx.AsyncClient(timeout=30) as http:
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            for label, body in webhook_bodies():
                response = await http.post(url, content=body, headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:200]}"
                if response.status_code != 200:
                    assert response.json()["error"], label
            # Without or with a wrong secret: 403 with a reason, whatever the body.
            for secret in (None, "", "wrong", WEBHOOK_SECRET + "x", WEBHOOK_SECRET.upper()):
                bad = {"Content-Type": "application/json"}
                if secret is not None:
                    bad["X-Telegram-Bot-Api-Secret-Token"] = secret
                response = await http.post(url, json=valid_update(990_000_000, 5, "sneaky"), headers=bad)
                assert response.status_code == 403 and response.json()["error"] == "wrong secret token"
        assert statuses.get(200, 0) > 0 and sum(statuses.values()) > 150, statuses
        assert not [m for m in await gateway.inbound(5)], "a refused update was stored"

        # Every update delivered twice and out of order: each stored once, answered once.
        rng = random.Random(7)
        chats = [7_000 + n for n in range(5)]
        updates = [gateway.api.text_update(chat, f"q{n} from {chat}") for chat in chats for n in range(6)]
        deliveries = updates * 2
        rng.shuffle(deliveries)
        for update in deliveries:
            response = await gateway.api.post_to_webhook(update)
            assert response.status_code == 200
        await gateway.settle()
        for chat in chats:
            inbound = [m.text for m in await gateway.inbound(chat)]
            assert sorted(inbound) == sorted(f"q{n} from {chat}" for n in range(6)), inbound
            answers = gateway.api.sent_texts(chat)
            assert sorted(answers) == sorted(f"echo: {text}" for text in inbound), answers
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors[:5]]
