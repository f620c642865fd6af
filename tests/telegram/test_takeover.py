"""Escalation, agent takeover, hand back and resolution for a customer on Telegram.

The whole gateway as bot/app.py builds it (``create_app``): Telegram wired from the
settings and long-polling the fake Bot API, the help desk, the agent console's JSON API
and socket.io namespace, the scripted Rasa of tests/gateway_harness.py and a real
database. Only python-telegram-bot's view of Telegram is fake.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import bot.app
from bot.channels.telegram import TelegramConfig
from bot.local_stack import free_port
from tests.gateway_harness import Gateway, running_gateway
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import fast_config, serving
from tests.staff.test_console import Agent, add_user, next_matching

CHAT = 61_616
HANDOVER = "I'm passing this to a colleague."  # ScriptedRasa's answer to "human ..."
TICKET_NOTICE = re.compile(r"^Your ticket number is (HL-\d+)\. You're number 1 in the queue\.")


@pytest.fixture(autouse=True)
def fast_telegram_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app builds TelegramConfig from the settings, which leave pacing at
    Telegram's 1 message/s per chat: about ten seconds of waiting per test here. Pacing
    has its own tests (test_throttle.py, test_sending.py); everything else is as built."""
    monkeypatch.setattr(bot.app, "TelegramConfig", functools.partial(
        TelegramConfig, **fast_config(poll_timeout_seconds=1)))


@asynccontextmanager
async def telegram_gateway(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Gateway, FakeBotApi]]:
    """The real gateway with TELEGRAM_BOT_TOKEN set, polling a local fake Bot API."""
    api = FakeBotApi()
    api_port = free_port()
    api.url = f"http://127.0.0.1:{api_port}"
    telegram = {
        "telegram_bot_token": api.token,
        "telegram_mode": "polling",
        "telegram_api_url": api.url,
    }
    # api.close ends a long poll the stopped gateway left waiting, so the fake stops at once.
    async with serving({api_port: api.app()}, before_stop=api.close):
        async with running_gateway(tmp_path, database_url, extra_settings=telegram) as gateway:
            # Connected and polling: getMe, deleteWebhook, then getUpdates.
            await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.requests), what="polling")
            yield gateway, api


async def customer_says(api: FakeBotApi, text: str, expect: int) -> list[str]:
    """The customer writes in the chat; waits until the chat holds ``expect`` messages."""
    api.queue_update(api.text_update(CHAT, text))
    await api.wait_for(lambda: len(api.sent(CHAT)) >= expect, what=f"{expect} messages in the chat")
    return api.sent_texts(CHAT)


async def agent_on_console(
    gateway: Gateway, database_url: str, email: str, name: str
) -> tuple[Agent, Any, asyncio.Queue[tuple[str, Any]]]:
    """A signed-in, online agent with the console's socket.io connection open."""
    add_user(database_url, email, name)
    agent = Agent(gateway, email)
    await agent.login()  # also sets the agent online, so the customer gets a queue place
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    console = await agent.console_socket(events)
    return agent, console, events


async def escalate(api: FakeBotApi, agent: Agent, text: str) -> tuple[int, str]:
    """The Telegram customer asks for a person: handover line, then the ticket notice."""
    texts = await customer_says(api, text, expect=2)
    assert texts[0] == HANDOVER
    notice = TICKET_NOTICE.match(texts[1])
    assert notice, texts[1]
    queue = (await agent.http.get("/api/queue")).json()["queue"]
    assert [(t["channel"], t["reason"]) for t in queue] == [("telegram", "customer_request")]
    assert queue[0]["number"] == notice.group(1)  # the number the customer was told
    return int(queue[0]["id"]), notice.group(1)


async def claim(api: FakeBotApi, agent: Agent, ticket_id: int) -> None:
    """The agent takes the ticket; the chat gets the "joined" notice (its third message)."""
    assert (await agent.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
    await api.wait_for(lambda: len(api.sent(CHAT)) == 3, what="the joined notice")


async def test_telegram_customer_escalates_agent_takes_over_and_hands_back(
    tmp_path: Path, database_url: str
) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        ana, console, events = await agent_on_console(gateway, database_url, "ana@example.com", "Ana")
        ticket_id, number = await escalate(api, ana, "human please, my parcel never came")
        rasa_calls = len(gateway.rasa.calls)

        detail = (await ana.http.get(f"/api/tickets/{ticket_id}")).json()
        assert detail["customer"]["channel"] == "telegram"
        assert detail["ticket"]["number"] == number
        assert "human please, my parcel never came" in [m["text"] for m in detail["messages"]]

        await claim(api, ana, ticket_id)
        assert api.sent_texts(CHAT)[2] == "Ana from our support team has joined the chat."
        assert (await console.call("watch", {"ticket_id": ticket_id}, namespace="/console")) == {
            "watching": ticket_id
        }

        # Agent -> customer: the reply reaches the Telegram chat as written, and the console.
        reply = "Sorry about that, <b>let me</b> check_it *now*."
        sent = await ana.post(f"/api/tickets/{ticket_id}/messages", {"text": reply})
        assert sent.status_code == 201
        await api.wait_for(lambda: len(api.sent(CHAT)) == 4, what="the agent's reply in the chat")
        assert api.sent_texts(CHAT)[3] == reply
        assert "parse_mode" not in api.sent(CHAT)[3].params
        echoed = await next_matching(events, "ticket_message", reply)
        assert echoed["ticket_id"] == ticket_id and echoed["message"]["author"] == "agent"

        # Customer -> agent: the Telegram message reaches the console, and only the console.
        api.queue_update(api.text_update(CHAT, "It was order 4471"))
        pushed = await next_matching(events, "ticket_message", "It was order 4471")
        assert pushed["ticket_id"] == ticket_id and pushed["message"]["direction"] == "in"
        assert len(gateway.rasa.calls) == rasa_calls  # the bot never saw it

        handed = await ana.post(f"/api/tickets/{ticket_id}/hand-back", {"note": "reshipped"})
        assert handed.status_code == 200
        await api.wait_for(lambda: len(api.sent(CHAT)) == 6, what="hand-back notice and the bot's resume")
        assert api.sent_texts(CHAT)[4:] == ["You're back with the Brightcart assistant.", "echo: /handed_back"]

        # The bot answers the chat again.
        texts = await customer_says(api, "thanks, where are your stores?", expect=7)
        assert texts[6] == "echo: thanks, where are your stores?"
        assert [c["message"] for c in gateway.rasa.calls[rasa_calls:]] == [
            "/handed_back", "thanks, where are your stores?"
        ]
        # Nothing else reached the chat: no bot answer while the agent had it.
        assert len(api.sent(CHAT)) == 7
        await console.disconnect()
        await ana.http.aclose()


async def test_a_resolution_note_reaches_the_telegram_chat(tmp_path: Path, database_url: str) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        dee, console, _ = await agent_on_console(gateway, database_url, "dee@example.com", "Dee")
        ticket_id, number = await escalate(api, dee, "human, my refund is missing")
        await claim(api, dee, ticket_id)

        done = await dee.post(f"/api/tickets/{ticket_id}/resolve",
                              {"note": "Your refund was sent today.", "category": "returns_refunds"})
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        await api.wait_for(lambda: len(api.sent(CHAT)) == 4, what="the resolution notice")
        assert api.sent_texts(CHAT)[3] == f"Your ticket {number} has been resolved: Your refund was sent today."

        detail = (await dee.http.get(f"/api/tickets/{ticket_id}")).json()
        assert detail["customer"]["channel"] == "telegram"
        assert detail["messages"][-1]["text"] == api.sent_texts(CHAT)[3]  # stored as delivered
        await console.disconnect()
        await dee.http.aclose()


async def test_a_reply_held_by_flood_control_does_not_hold_the_agent_or_lose_its_place(
    tmp_path: Path, database_url: str
) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        kim, console, _ = await agent_on_console(gateway, database_url, "kim@example.com", "Kim")
        ticket_id, number = await escalate(api, kim, "human please, my parcel never came")
        await claim(api, kim, ticket_id)
        before = len(api.sent(CHAT))
        api.flood_next("sendMessage", retry_after=3)

        sent = await kim.post(f"/api/tickets/{ticket_id}/messages", {"text": "Let me check with the courier."})
        assert sent.status_code == 201 and sent.json()["message"]["status"] == "sent"
        assert len(api.sent(CHAT)) == before  # answered while Telegram still holds the reply
        done = await kim.post(f"/api/tickets/{ticket_id}/resolve", {"note": "Courier found it."})
        assert done.status_code == 200

        await api.wait_for(lambda: len(api.sent(CHAT)) >= before + 2, what="the reply and the notice")
        assert api.sent_texts(CHAT)[before:before + 2] == [
            "Let me check with the courier.", f"Your ticket {number} has been resolved: Courier found it.",
        ]
        await console.disconnect()
        await kim.http.aclose()


async def test_an_agent_sees_when_a_reply_did_not_reach_a_customer_who_blocked_the_bot(
    tmp_path: Path, database_url: str
) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        lee, console, events = await agent_on_console(gateway, database_url, "lee@example.com", "Lee")
        ticket_id, _ = await escalate(api, lee, "human please, wrong item delivered")
        await claim(api, lee, ticket_id)
        assert (await console.call("watch", {"ticket_id": ticket_id}, namespace="/console")) == {
            "watching": ticket_id
        }
        api.block(CHAT)

        sent = await lee.post(f"/api/tickets/{ticket_id}/messages", {"text": "Could you send a photo?"})
        # Stored and answered at once; the delivery's outcome follows on the console socket.
        assert sent.status_code == 201 and sent.json()["message"]["status"] == "sent"
        echoed = await next_matching(events, "ticket_message", "Could you send a photo?")
        assert echoed["message"]["status"] == "sent"
        update = await next_matching(events, "ticket_message", "Could you send a photo?")
        assert update["message"]["id"] == echoed["message"]["id"]
        assert update["message"]["status"] == "undelivered"  # the console marks it
        detail = (await lee.http.get(f"/api/tickets/{ticket_id}")).json()
        assert detail["messages"][-1]["status"] == "undelivered"
        assert len(api.sent(CHAT)) == 3
        await console.disconnect()
        await lee.http.aclose()
