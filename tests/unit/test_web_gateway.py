"""The gateway over real socket.io: protocol, validation, persistence, order, faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.db import make_engine, make_session_factory
from bot.pipeline import APOLOGY
from bot.transcript.store import TranscriptStore
from tests.gateway_harness import ChatClient, running_gateway


def store_for(database_url: str) -> TranscriptStore:
    return TranscriptStore(make_session_factory(make_engine(database_url)))


async def test_question_is_stored_answered_and_logged(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        ack = await client.say("Where is my order?", "m-1")
        assert ack["status"] == "stored" and ack["duplicate"] is False
        reply = await client.next_of("bot_uttered")
        assert reply["text"] == "echo: Where is my order?"
        await client.close()
    conversation_id = signed.split(".")[0]
    history = await store_for(database_url).history(conversation_id)
    assert [(m.direction, m.author, m.text) for m in history] == [
        ("in", "customer", "Where is my order?"),
        ("out", "bot", "echo: Where is my order?"),
    ]
    inbound, outbound = history
    assert inbound.status == "answered" and inbound.intent == "faq"
    assert inbound.intent_confidence == 0.9 and inbound.latency_ms is not None
    assert outbound.reply_to_id == inbound.id
    # Rasa saw the gateway's conversation id, never a client-chosen one.
    assert gateway.rasa.calls[0]["sender"] == conversation_id


async def test_a_reply_and_the_answered_status_are_committed_together(tmp_path: Path, database_url: str) -> None:
    """Start-up answers messages still "received" again, so no commit may leave a reply
    stored beside a message that still reads "received" (a crash there answered twice)."""
    checker = make_engine(database_url)
    replies_to_received: list[int] = []

    def after_commit(_: Session) -> None:
        with checker.connect() as connection:
            replies_to_received.extend(connection.scalars(text(
                "SELECT m.id FROM messages m JOIN messages r ON r.reply_to_id = m.id WHERE m.status = 'received'"
            )))

    event.listen(Session, "after_commit", after_commit)
    try:
        async with running_gateway(tmp_path, database_url) as gateway:
            client = ChatClient()
            await client.connect(gateway.url)
            for n in range(3):
                await client.say(f"question {n}", f"m-{n}")
                assert (await client.next_of("bot_uttered"))["text"] == f"echo: question {n}"
            await client.close()
    finally:
        event.remove(Session, "after_commit", after_commit)
        checker.dispose()
    assert replies_to_received == []


async def test_buttons_become_quick_replies(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        await client.connect(gateway.url)
        await client.say("buttons")
        reply = await client.next_of("bot_uttered")
        assert reply["quick_replies"] == [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]
        await client.close()


async def test_a_client_cannot_choose_or_forge_its_conversation(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        first = ChatClient()
        signed = await first.connect(gateway.url)
        await first.close()
        back = ChatClient()
        assert await back.connect(gateway.url, session_id=signed) == signed  # reload keeps it
        await back.close()
        intruder = ChatClient()
        raw = signed.split(".")[0]
        for forged in (raw, raw + ".AAAAAAAAAAAAAAAAAAAAAAAA", "0" * 32 + "." + signed.split(".")[1]):
            issued = await intruder.connect(gateway.url, session_id=forged)
            assert issued.split(".")[0] != raw
            await intruder.sio.disconnect()
            intruder = ChatClient()


async def test_bad_input_gets_a_reason_and_the_connection_lives_on(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        assert (await client.say("   \n "))["status"] == "ignored"
        assert (await client.next_of("helpline_notice"))["type"] == "empty"
        refused = await client.say("x" * 4001)
        assert refused["status"] == "refused" and "4000" in refused["reason"]
        for malformed in ("just a string", {"text": "no message field"}, {"message": 42}, [1, 2]):
            ack = await client.send_raw(malformed)
            assert ack["status"] == "error" and ack["error"]
            assert (await client.next_of("helpline_error"))["error"]
        assert (await client.say("still here?"))["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == "echo: still here?"
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert [m.text for m in history if m.direction == "in"] == ["still here?"]


async def test_message_before_session_is_refused(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        await client.sio.connect(gateway.url, transports=["websocket"])
        ack = await client.say("hello")
        assert ack["status"] == "error" and "session_request" in ack["error"]
        await client.close()


async def test_html_is_kept_as_text(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        await client.connect(gateway.url)
        await client.say("<script>alert(1)</script>")
        assert (await client.next_of("bot_uttered"))["text"] == "echo: <script>alert(1)</script>"
        await client.close()


async def test_resent_message_is_stored_and_answered_once(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        first = await client.say("refund status", "same-id")
        assert (await client.next_of("bot_uttered"))["text"] == "echo: refund status"
        again = await client.say("refund status", "same-id")
        assert again["duplicate"] is True and again["message_id"] == first["message_id"]
        # The stored answer is shown again; Rasa is not asked twice.
        assert (await client.next_of("bot_uttered"))["text"] == "echo: refund status"
        assert len(gateway.rasa.calls) == 1
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert len(history) == 2


async def test_messages_of_a_conversation_are_answered_in_order(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        await client.connect(gateway.url)
        texts = ["slow:0.6 one", "slow:0.3 two", "three", "slow:0.1 four", "five"]
        acks = await asyncio.gather(*(client.say(t, f"id-{i}") for i, t in enumerate(texts)))
        assert all(a["status"] == "stored" for a in acks)
        replies = [(await client.next_of("bot_uttered"))["text"] for _ in texts]
        assert replies == [f"echo: {t}" for t in texts]
        assert [c["message"] for c in gateway.rasa.calls] == texts
        await client.close()


async def test_slow_rasa_gets_an_apology_and_the_message_stays(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, rasa_timeout=0.5) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("slow:2 are you there?")
        reply = await client.next_of("bot_uttered")
        assert reply["text"] == APOLOGY and reply["author"] == "system"
        await client.say("next question")
        assert (await client.next_of("bot_uttered"))["text"] == "echo: next question"
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    failed = history[0]
    assert failed.text == "slow:2 are you there?" and failed.status == "failed"
    assert history[-2].status == "answered"


async def test_rasa_down_gets_an_apology(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url, rasa_up=False) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        assert (await client.say("hello?"))["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == APOLOGY
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert history[0].status == "failed" and history[0].text == "hello?"


async def test_history_redraws_a_conversation_after_reload(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("first")
        await client.next_of("bot_uttered")
        await client.close()
        again = ChatClient()
        await again.connect(gateway.url, session_id=signed)
        await again.sio.emit("history_request", {})
        history = await again.next_of("history")
        assert [(m["direction"], m["text"]) for m in history["messages"]] == [
            ("in", "first"), ("out", "echo: first")
        ]
        await again.close()


async def test_messages_left_unanswered_by_a_crash_are_answered_at_start(
    tmp_path: Path, database_url: str
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.transcript.models import Message, utcnow

    store = store_for(database_url)
    await store.ensure_conversation("a" * 32, "web")
    fresh = await store.record_inbound("a" * 32, "web", "stored, then the gateway died", "x1")
    await store.ensure_conversation("b" * 32, "web")
    stale = await store.record_inbound("b" * 32, "web", "from last week", "x2")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(Message).where(Message.id == stale.message.id)
            .values(created_at=utcnow() - timedelta(days=7))
        )
    engine.dispose()
    async with running_gateway(tmp_path, database_url) as gateway:
        for _ in range(100):
            if gateway.rasa.calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    assert [c["message"] for c in gateway.rasa.calls] == ["stored, then the gateway died"]
    answered = await store.history("a" * 32)
    assert answered[0].status == "answered" and answered[1].text == "echo: stored, then the gateway died"
    assert (await store.history("b" * 32))[0].status == "failed"
