"""Escalation, the queue and live takeover through the real gateway and agent API."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import socketio
from argon2 import PasswordHasher

from staff.auth.audit import Actor
from staff.auth.passwords import Passwords
from staff.auth.users import UserDirectory
from bot.db import make_engine, make_session_factory
from tests.gateway_harness import ChatClient, Gateway, running_gateway

PASSWORD = "a long enough password"
LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(database_url: str, email: str, name: str, role: str = "agent") -> int:
    engine = make_engine(database_url)
    users = UserDirectory(make_session_factory(engine), Passwords(hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), min_length=8))
    user = users.create(email, name, role, PASSWORD, Actor(user_id=None, label="test"))
    engine.dispose()
    return user.id


class Agent:
    def __init__(self, gateway: Gateway, email: str) -> None:
        self.http = httpx.AsyncClient(base_url=gateway.url, timeout=15)
        self.email = email
        self.csrf = ""

    async def login(self) -> None:
        page = await self.http.get("/login")
        token = LOGIN_TOKEN.search(page.text)
        assert token, page.text
        response = await self.http.post(
            "/login", data={"email": self.email, "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert response.status_code in (302, 303), response.text
        self.csrf = (await self.http.get("/api/me")).json()["csrf_token"]
        assert (await self.post("/api/presence", {"status": "online"})).status_code == 200

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    async def console_socket(self, events: asyncio.Queue[tuple[str, Any]]) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        for name in ("queue_changed", "ticket_message", "ticket_changed"):
            sio.on(name, lambda data, name=name: events.put_nowait((name, data)), namespace="/console")
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        await sio.connect(self.http.base_url.__str__().rstrip("/"), headers={"Cookie": cookie},
                          auth={"csrf_token": self.csrf}, namespaces=["/console"], transports=["websocket"])
        return sio


async def next_matching(
    queue: asyncio.Queue[tuple[str, Any]], name: str, text: str, timeout: float = 5
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        event, data = await asyncio.wait_for(queue.get(), deadline - time.monotonic())
        if event == name and data["message"]["text"] == text:
            return data


async def test_escalate_claim_talk_both_ways_and_hand_back(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        add_user(database_url, "ana@example.com", "Ana")
        add_user(database_url, "ben@example.com", "Ben")
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("human please, my order is wrong")
        assert (await customer.next_of("bot_uttered"))["text"] == "I'm passing this to a colleague."
        notice = await customer.next_of("bot_uttered")
        assert notice["metadata"]["author"] == "system" and re.search(r"ticket number is HL-\d+", notice["text"])
        assert "No one from our team is available" in notice["text"]

        # While queued the bot stays silent; the customer is told where they stand.
        calls_before = len(gateway.rasa.calls)
        await customer.say("hello? anyone?")
        assert "saved for our team" in (await customer.next_of("bot_uttered"))["text"]
        assert len(gateway.rasa.calls) == calls_before

        ana, ben = Agent(gateway, "ana@example.com"), Agent(gateway, "ben@example.com")
        await ana.login()
        await ben.login()
        queue = (await ana.http.get("/api/queue")).json()["queue"]
        assert len(queue) == 1 and queue[0]["reason"] == "customer_request"
        ticket_id = queue[0]["id"]

        # Two agents click at once: exactly one wins, the other gets 409.
        first, second = await asyncio.gather(
            ana.post(f"/api/tickets/{ticket_id}/claim"), ben.post(f"/api/tickets/{ticket_id}/claim")
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        winner, loser = (ana, ben) if first.status_code == 200 else (ben, ana)
        joined = await customer.next_of("bot_uttered")
        assert "has joined the chat" in joined["text"]

        # Only the owner may write; unknown tickets are 404.
        assert (await loser.post(f"/api/tickets/{ticket_id}/messages", {"text": "hi"})).status_code == 403
        assert (await winner.post("/api/tickets/999999/messages", {"text": "hi"})).status_code == 404
        assert (await winner.http.post(f"/api/tickets/{ticket_id}/messages", json={"text": "no csrf"})).status_code == 403

        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        console = await winner.console_socket(events)
        await console.call("watch", {"ticket_id": ticket_id}, namespace="/console")

        started = time.monotonic()
        sent = await winner.post(f"/api/tickets/{ticket_id}/messages", {"text": "Hi, I'm <b>here</b> to help."})
        assert sent.status_code == 201
        reply = await customer.next_of("bot_uttered")
        assert reply["metadata"]["author"] == "agent" and reply["text"] == "Hi, I'm <b>here</b> to help."
        assert time.monotonic() - started < 1.0

        started = time.monotonic()
        await customer.say("It arrived broken")
        pushed = await next_matching(events, "ticket_message", "It arrived broken")
        assert pushed["ticket_id"] == ticket_id and pushed["message"]["text"] == "It arrived broken"
        assert time.monotonic() - started < 1.0
        assert len(gateway.rasa.calls) == calls_before  # the bot never saw it

        detail = (await winner.http.get(f"/api/tickets/{ticket_id}")).json()
        texts = [m["text"] for m in detail["messages"]]
        assert "human please, my order is wrong" in texts and "It arrived broken" in texts

        handed = await winner.post(f"/api/tickets/{ticket_id}/hand-back", {"note": "sent a replacement"})
        assert handed.status_code == 200
        assert "back with the Brightcart assistant" in (await customer.next_of("bot_uttered"))["text"]
        assert (await customer.next_of("bot_uttered"))["text"] == "echo: /handed_back"
        await customer.say("thanks")
        assert (await customer.next_of("bot_uttered"))["text"] == "echo: thanks"

        await console.disconnect()
        await customer.close()
        for agent in (ana, ben):
            await agent.http.aclose()


async def test_customer_can_leave_the_queue(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("human now")
        await customer.next_of("bot_uttered")
        await customer.next_of("bot_uttered")
        await customer.say("never mind")
        left = await customer.next_of("bot_uttered")
        assert "left the queue" in left["text"]
        await customer.say("where is my parcel")
        assert (await customer.next_of("bot_uttered"))["text"] == "echo: where is my parcel"
        await customer.close()


async def test_console_requires_a_signed_in_agent(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
            assert (await anonymous.get("/api/queue")).status_code == 401
            assert (await anonymous.post("/api/tickets/1/claim")).status_code in (401, 403)
            page = await anonymous.get("/console")
            assert page.status_code in (302, 303) and "/login" in page.headers["location"]


async def test_a_disconnected_agent_loses_the_chat_after_the_grace_period(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, handoff_policy={"agent_grace": "1s"}) as gateway:
        add_user(database_url, "cy@example.com", "Cy")
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("human please")
        await customer.next_of("bot_uttered")
        await customer.next_of("bot_uttered")
        cy = Agent(gateway, "cy@example.com")
        await cy.login()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        console = await cy.console_socket(events)
        ticket_id = (await cy.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await cy.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        assert "joined" in (await customer.next_of("bot_uttered"))["text"]

        await console.disconnect()  # closed laptop: no reconnect within the grace period
        notice = await customer.next_of("bot_uttered", timeout=10)
        assert "back in the queue" in notice["text"]
        queue = (await cy.http.get("/api/queue")).json()["queue"]
        assert [t["id"] for t in queue] == [ticket_id]
        # The agent cannot write into it any more.
        assert (await cy.post(f"/api/tickets/{ticket_id}/messages", {"text": "still there?"})).status_code == 403
        await customer.close()
        await cy.http.aclose()


async def test_resolution_reaches_the_customer_and_notes_stay_internal(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        add_user(database_url, "dee@example.com", "Dee")
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("human, my refund is missing")
        await customer.next_of("bot_uttered")
        await customer.next_of("bot_uttered")
        dee = Agent(gateway, "dee@example.com")
        await dee.login()
        ticket_id = (await dee.http.get("/api/queue")).json()["queue"][0]["id"]
        await dee.post(f"/api/tickets/{ticket_id}/claim")
        await customer.next_of("bot_uttered")
        assert (await dee.post(f"/api/tickets/{ticket_id}/notes", {"text": "checked payment provider"})).status_code == 201
        bad = await dee.post(f"/api/tickets/{ticket_id}/resolve", {"note": "ok", "category": "nonsense"})
        assert bad.status_code == 422
        done = await dee.post(f"/api/tickets/{ticket_id}/resolve",
                              {"note": "Your refund was sent today.", "category": "returns_refunds"})
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        resolution = await customer.next_of("bot_uttered")
        assert resolution["text"].endswith("resolved: Your refund was sent today.")
        detail = (await dee.http.get(f"/api/tickets/{ticket_id}")).json()
        assert detail["notes"][0]["text"] == "checked payment provider"
        assert all(m["text"] != "checked payment provider" for m in detail["messages"])
        assert detail["ticket"]["category"] == "returns_refunds"
        await customer.close()
        await dee.http.aclose()


async def test_a_gateway_restart_loses_no_ticket_and_no_message(tmp_path: Path, database_url: str) -> None:
    add_user(database_url, "eve@example.com", "Eve")
    async with running_gateway(tmp_path, database_url) as gateway:
        customer = ChatClient()
        signed = await customer.connect(gateway.url)
        await customer.say("human, about my invoice")
        await customer.next_of("bot_uttered")
        await customer.next_of("bot_uttered")
        await customer.close()
    async with running_gateway(tmp_path, database_url) as restarted:
        eve = Agent(restarted, "eve@example.com")
        await eve.login()
        queue = (await eve.http.get("/api/queue")).json()["queue"]
        assert len(queue) == 1 and queue[0]["conversation_id"] == signed.split(".")[0]
        assert (await eve.post(f"/api/tickets/{queue[0]['id']}/claim")).status_code == 200
        detail = (await eve.http.get(f"/api/tickets/{queue[0]['id']}")).json()
        assert [m["text"] for m in detail["messages"]][0] == "human, about my invoice"
        # The customer comes back to the same conversation and reaches the agent.
        again = ChatClient()
        await again.connect(restarted.url, session_id=signed)
        await eve.post(f"/api/tickets/{queue[0]['id']}/messages", {"text": "Eve here, let me check."})
        assert (await again.next_of("bot_uttered"))["text"] == "Eve here, let me check."
        await again.close()
        await eve.http.aclose()


FEEDBACK_PRESS = '/feedback{"helpful":"yes","faq_id":"returns_refunds.timing"}'


def offer_feedback_buttons(database_url: str, asked: str) -> None:
    """Store the FAQ answer's feedback buttons as action_faq sends them (the scripted Rasa
    offers none), on the conversation in which ``asked`` was written."""
    from sqlalchemy import select

    from bot.transcript.models import Message

    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        question = session.scalars(select(Message).where(Message.text == asked)).one()
        session.add(Message(
            conversation_id=question.conversation_id, channel=question.channel, direction="out",
            author="bot", text="Refunds reach your account within 5 working days.", status="sent",
            buttons=[{"title": "👍 Helpful", "payload": FEEDBACK_PRESS},
                     {"title": "👎 Not helpful", "payload": FEEDBACK_PRESS.replace('"yes"', '"no"')}]))
    engine.dispose()


async def test_console_shows_the_title_of_the_button_a_customer_pressed(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        add_user(database_url, "fay@example.com", "Fay")
        customer = ChatClient()
        await customer.connect(gateway.url)
        await customer.say("buttons")  # the scripted Rasa offers a "Yes" button (/affirm)
        await customer.next_of("bot_uttered")
        await customer.say("/affirm")
        await customer.next_of("bot_uttered")
        await customer.say("question: how long does a refund take?")
        await customer.next_of("bot_uttered")
        offer_feedback_buttons(database_url, "question: how long does a refund take?")
        await customer.say(FEEDBACK_PRESS)
        await customer.next_of("bot_uttered")
        await customer.say("human please")
        await customer.next_of("bot_uttered")

        fay = Agent(gateway, "fay@example.com")
        await fay.login()
        [ticket] = (await fay.http.get("/api/queue")).json()["queue"]
        detail = (await fay.http.get(f"/api/tickets/{ticket['id']}")).json()
        inbound = {m["text"]: m for m in detail["messages"] if m["direction"] == "in"}
        assert inbound[FEEDBACK_PRESS]["display_text"] == "👍 Helpful"
        assert inbound["/affirm"]["display_text"] == "Yes"
        assert "display_text" not in inbound["human please"]  # typed: shown as written
        await customer.close()
        await fay.http.aclose()
