"""The gateway over real socket.io: protocol, validation, persistence, order, faults."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.db import make_engine, make_session_factory

from bot.pipeline import APOLOGY, BOT_ERROR_HANDOVER, SAVED_NOTICE
from bot.transcript.store import TranscriptStore
from tests.gateway_harness import ChatClient, ScriptedRasa, running_gateway


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


async def test_bot_uttered_has_rasas_keys_only_and_ours_under_metadata(tmp_path: Path, database_url: str) -> None:
    """rasa-webchat shows a message only when its keys are exactly text (+ quick_replies)
    once metadata is removed; any other top-level key makes it a custom component."""
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        await client.connect(gateway.url)
        await client.say("plain")
        plain = await client.next_of("bot_uttered")
        await client.say("buttons")
        with_buttons = await client.next_of("bot_uttered")
        await client.close()
    assert set(plain) == {"text", "metadata"} and plain["text"] == "echo: plain"
    assert set(with_buttons) == {"text", "quick_replies", "metadata"}
    for message in (plain, with_buttons):
        meta = message["metadata"]
        assert meta["author"] == "bot" and isinstance(meta["id"], int) and meta["status"] == "sent"
    assert with_buttons["metadata"]["id"] > plain["metadata"]["id"]


async def test_a_widget_opening_without_a_message_is_greeted(tmp_path: Path, database_url: str) -> None:
    """rasa-webchat without initPayload opens with {customData, session_id} and no message;
    its documented example payload is /get_started. Both start the conversation."""
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        ack = await client.send_raw({"customData": {"language": "en"}, "session_id": signed})
        assert ack["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == "echo: /greet"
        ack = await client.send_raw({"message": "/get_started", "customData": {}, "session_id": signed})
        assert ack["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == "echo: /greet"
        assert (await client.send_raw({"message": None}))["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == "echo: /greet"
        await client.close()
    assert [c["message"] for c in gateway.rasa.calls] == ["/greet"] * 3


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
        assert (await client.next_of("helpline_notice"))["type"] == "too_long"
        # Rasa widgets ignore helpline_notice: the refusal also comes as a message they show.
        shown = await client.next_of("bot_uttered")
        assert "4000" in shown["text"] and shown["metadata"] == {"author": "system", "notice": "too_long"}
        for malformed in ("just a string", {"message": 42}, {"message": ["a"]}, [1, 2]):
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


async def test_rasa_timing_out_twice_then_recovering_answers_without_a_ticket(
    tmp_path: Path, database_url: str
) -> None:
    # A timeout under load is no bot error: the customer hears "saved" once, then the
    # real answer when Rasa keeps up again; nobody is handed to the team.
    rasa = ScriptedRasa(trouble=["stall", "stall"])
    async with running_gateway(tmp_path, database_url, rasa_timeout=0.5, rasa=rasa) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("are you there?")
        assert (await client.next_of("bot_uttered"))["text"] == SAVED_NOTICE
        await client.say("and this?")
        assert (await client.next_of("bot_uttered", timeout=15))["text"] == "echo: are you there?"
        assert (await client.next_of("bot_uttered", timeout=15))["text"] == "echo: and this?"
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert [m.text for m in history] == [
        "are you there?", SAVED_NOTICE, "and this?", "echo: are you there?", "echo: and this?"
    ]
    assert [m.status for m in history if m.direction == "in"] == ["answered", "answered"]
    assert APOLOGY not in [m.text for m in history] and BOT_ERROR_HANDOVER not in [m.text for m in history]
    assert _ticket_count(database_url) == 0


async def test_a_message_still_failing_after_the_retry_window_goes_to_the_team(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    import bot.pipeline

    monkeypatch.setattr(bot.pipeline, "RETRY_WINDOW", timedelta(seconds=1))
    rasa = ScriptedRasa(trouble=["stall"] * 10, stall_seconds=0.6)
    async with running_gateway(tmp_path, database_url, rasa_timeout=0.3, rasa=rasa) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("anyone?")
        assert (await client.next_of("bot_uttered"))["text"] == SAVED_NOTICE
        assert (await client.next_of("bot_uttered", timeout=15))["text"] == BOT_ERROR_HANDOVER
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert history[0].status == "failed"
    assert _ticket_count(database_url) == 1


async def test_a_reply_the_database_failed_to_record_is_answered_later_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = TranscriptStore.record_outbound
    failures = []

    async def flaky(self: TranscriptStore, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("outcome") is not None and not failures:
            failures.append(kwargs["reply_to_id"])
            raise OperationalError("INSERT INTO messages", {}, Exception("server closed the connection"))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(TranscriptStore, "record_outbound", flaky)
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("hello")
        assert (await client.next_of("bot_uttered"))["text"] == SAVED_NOTICE
        assert (await client.next_of("bot_uttered"))["text"] == "echo: hello"
        await asyncio.sleep(1.5)  # time for a second answer, were there one
        assert client.events.empty()
        await client.close()
    assert failures
    history = await store_for(database_url).history(signed.split(".")[0])
    assert [(m.text, m.status) for m in history] == [
        ("hello", "answered"), (SAVED_NOTICE, "sent"), ("echo: hello", "sent")
    ]
    # Rasa was asked once: the retry stored the answer it had already given.
    assert [c["message"] for c in gateway.rasa.calls] == ["hello"]


async def test_one_gateway_sweeps_a_message_whose_turn_stopped_on_an_unexpected_error(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    import bot.app
    import bot.pipeline

    monkeypatch.setattr(bot.pipeline, "STALE_AFTER", timedelta(seconds=1))
    monkeypatch.setattr(bot.app._upkeep, "__defaults__", (0.5,))  # sweep every 0.5 s
    original = TranscriptStore.record_outbound
    failures = []

    async def broken_once(self: TranscriptStore, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("outcome") is not None and not failures:
            failures.append(kwargs["reply_to_id"])
            raise RuntimeError("a bug nobody classified")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(TranscriptStore, "record_outbound", broken_once)
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("hello")
        assert (await client.next_of("bot_uttered", timeout=15))["text"] == "echo: hello"
        await asyncio.sleep(1.5)  # more sweeps: none answers again
        assert client.events.empty()
        await client.close()
    assert failures
    history = await store_for(database_url).history(signed.split(".")[0])
    assert [(m.text, m.status) for m in history] == [("hello", "answered"), ("echo: hello", "sent")]


async def test_rasa_answering_errors_twice_hands_the_customer_over(
    tmp_path: Path, database_url: str
) -> None:
    rasa = ScriptedRasa(trouble=["error", "error"])
    async with running_gateway(tmp_path, database_url, rasa=rasa) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("first")
        assert (await client.next_of("bot_uttered"))["text"] == APOLOGY
        await client.say("second")
        assert (await client.next_of("bot_uttered"))["text"] == BOT_ERROR_HANDOVER
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    assert [m.status for m in history if m.direction == "in"] == ["failed", "failed"]
    assert _ticket_count(database_url) == 1


def _ticket_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    finally:
        engine.dispose()


async def test_rasa_down_the_customer_hears_the_message_is_saved(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url, rasa_up=False) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        assert (await client.say("hello?"))["status"] == "stored"
        assert (await client.next_of("bot_uttered"))["text"] == SAVED_NOTICE
        await client.close()
    history = await store_for(database_url).history(signed.split(".")[0])
    # Still waiting for Rasa: answered when it is back (or by the next start-up's resume).
    assert history[0].status == "received" and history[0].text == "hello?"


async def test_history_redraws_a_conversation_after_reload(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        client = ChatClient()
        signed = await client.connect(gateway.url)
        await client.say("first", "client-1")
        await client.next_of("bot_uttered")
        await client.close()
        again = ChatClient()
        await again.connect(gateway.url, session_id=signed)
        await again.sio.emit("history_request", {})
        history = await again.next_of("history")
        assert [(m["metadata"]["direction"], m["text"]) for m in history["messages"]] == [
            ("in", "first"), ("out", "echo: first")
        ]
        question, answer = history["messages"]
        assert question["metadata"]["client_message_id"] == "client-1" and question["metadata"]["author"] == "customer"
        assert set(answer) == {"text", "metadata"} and answer["metadata"]["author"] == "bot"
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


async def test_only_our_own_and_the_allowed_origins_may_connect(tmp_path: Path, database_url: str) -> None:
    """HELPLINE_ALLOWED_ORIGINS: a page on another site cannot open the customer socket."""
    import socketio

    shop = "https://shop.example.com"
    async with running_gateway(tmp_path, database_url, extra_settings={"allowed_origins": shop}) as gateway:
        for origin in (shop, gateway.url):
            client = ChatClient()
            await client.sio.connect(gateway.url, transports=["websocket"], headers={"Origin": origin})
            await client.sio.emit("session_request", {})
            assert (await client.next_event())[0] == "session_confirm"
            await client.close()
        for origin in ("https://evil.example.net", "https://shop.example.com.evil.net", "http://shop.example.com"):
            for transport in ("websocket", "polling"):
                intruder = ChatClient()
                try:
                    await intruder.sio.connect(gateway.url, transports=[transport], headers={"Origin": origin})
                except socketio.exceptions.ConnectionError:
                    continue
                await intruder.close()
                raise AssertionError(f"{origin} connected over {transport}")


async def test_widget_js_carries_the_operators_settings(tmp_path: Path, database_url: str) -> None:
    import httpx

    settings = {"widget_title": "Acme <help>", "widget_color": "#0A7", "widget_greeting": "Hello from Acme!"}
    async with running_gateway(tmp_path, database_url, extra_settings=settings) as gateway:
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            script = await http.get("/widget.js")  # httpx asks for gzip and decodes it
            plain = await http.get("/widget.js", headers={"Accept-Encoding": "identity"})
            css = await http.get("/static/widget.css")
    assert script.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert script.text == plain.text and script.headers["vary"] == "Accept-Encoding"
    assert int(script.headers["content-length"]) < len(plain.content) / 2
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert '"title": "Acme \\u003chelp\\u003e"' in script.text or '"title": "Acme <help>"' in script.text
    assert '"color": "#0a7"' in script.text and '"greeting": "Hello from Acme!"' in script.text
    assert '"maxChars": 4000' in script.text
    assert "__HELPLINE_" not in script.text and "sourceMappingURL" not in script.text
    assert "Socket.IO v4" in script.text  # the client is bundled, from the gateway itself
    assert css.status_code == 200 and "--hl-accent" in css.text


def test_widget_settings_are_validated() -> None:
    import pytest
    from pydantic import ValidationError

    from bot.settings import Settings

    for colour in ("red", "#12345", "#1f5fbf; background: url(x)", "javascript:1"):
        with pytest.raises(ValidationError, match="hex colour"):
            Settings(widget_color=colour)
    for origins in ("shop.example.com", "https://shop.example.com/path", "*", "https://a.com,ftp://b.com"):
        with pytest.raises(ValidationError, match="not an origin"):
            Settings(allowed_origins=origins)
    settings = Settings(allowed_origins=" https://Shop.example.com/ ,http://127.0.0.1:9000", port=8100,
                        public_url="https://help.example.com/chat")
    assert settings.socket_origins == [
        "https://help.example.com", "http://127.0.0.1:8100", "http://localhost:8100",
        "https://shop.example.com", "http://127.0.0.1:9000",
    ]


async def test_customer_sees_the_agent_join_and_type(tmp_path: Path, database_url: str) -> None:
    """The console's typing signal reaches the customer (rate-limited, only from the agent
    who holds the chat); claiming and handing back tell the customer's page who is there."""
    from tests.staff.test_console import Agent, add_user

    async with running_gateway(tmp_path, database_url) as gateway:
        add_user(database_url, "ana@example.com", "Ana")
        add_user(database_url, "ben@example.com", "Ben")
        customer = ChatClient()
        signals: asyncio.Queue[dict] = asyncio.Queue()
        customer.sio.on("helpline_agent", signals.put)
        signed = await customer.connect(gateway.url)
        await customer.say("human please")
        ana, ben = Agent(gateway, "ana@example.com"), Agent(gateway, "ben@example.com")
        await ana.login()
        await ben.login()
        ticket_id = (await ana.http.get("/api/queue")).json()["queue"][0]["id"]

        events: asyncio.Queue = asyncio.Queue()
        ben_console = await ben.console_socket(events)
        ana_console = await ana.console_socket(events)
        await ben_console.emit("typing", {"ticket_id": ticket_id}, namespace="/console")  # not his chat
        assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        assert await asyncio.wait_for(signals.get(), 5) == {"state": "joined", "name": "Ana"}
        # A page redrawn after a reload hears it with the history.
        reloaded = ChatClient()
        reloaded_signals: asyncio.Queue[dict] = asyncio.Queue()
        reloaded.sio.on("helpline_agent", reloaded_signals.put)
        await reloaded.connect(gateway.url, session_id=signed)
        await reloaded.sio.emit("history_request", {})
        await reloaded.next_of("history")
        assert await asyncio.wait_for(reloaded_signals.get(), 5) == {"state": "joined", "name": "Ana"}
        await reloaded.close()

        for _ in range(5):  # keystrokes: passed on at most every 2 s
            await ana_console.emit("typing", {"ticket_id": ticket_id}, namespace="/console")
        assert await asyncio.wait_for(signals.get(), 5) == {"state": "typing", "name": "Ana"}
        await asyncio.sleep(0.5)
        assert signals.empty()

        assert (await ana.post(f"/api/tickets/{ticket_id}/hand-back", {"note": ""})).status_code == 200
        assert await asyncio.wait_for(signals.get(), 5) == {"state": "left", "name": None}
        for client in (ana_console, ben_console):
            await client.disconnect()
        for agent in (ana, ben):
            await agent.http.aclose()
        await customer.close()


async def test_a_page_that_follows_another_conversation_leaves_the_first(tmp_path: Path, database_url: str) -> None:
    """The widget follows a conversation another tab started (session_request again):
    from then on it hears that conversation only."""
    async with running_gateway(tmp_path, database_url) as gateway:
        first, second, page = ChatClient(), ChatClient(), ChatClient()
        signed_first = await first.connect(gateway.url)
        signed_second = await second.connect(gateway.url)
        assert await page.connect(gateway.url, session_id=signed_first) == signed_first
        await page.sio.emit("session_request", {"session_id": signed_second})
        assert await page.next_of("session_confirm") == signed_second
        await first.say("for the first conversation")
        assert (await first.next_of("bot_uttered"))["text"] == "echo: for the first conversation"
        await second.say("for the second")
        assert (await page.next_of("bot_uttered"))["text"] == "echo: for the second"
        for client in (first, second, page):
            await client.close()
