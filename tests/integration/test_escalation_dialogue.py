"""Escalation triggers through the real Rasa dialogue, action server and gateway."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from bot.db import make_engine, make_session_factory
from handoff.models import Ticket
from tests.gateway_harness import ChatClient
from tests.stack_harness import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def tickets_of(stack: Stack, conversation_id: str) -> list[Ticket]:
    engine = make_engine(stack.settings.sqlalchemy_url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)))
        session.expunge_all()
    engine.dispose()
    return rows


async def bot_texts(client: ChatClient, count: int) -> list[str]:
    return [(await client.next_of("bot_uttered", timeout=30))["text"] for _ in range(count)]


async def test_complaint_collects_details_then_becomes_a_ticket(stack: Stack) -> None:
    client = ChatClient()
    signed = await client.connect(stack.url)
    await client.say("I want to make a complaint about your terrible service")
    assert "what went wrong" in (await bot_texts(client, 1))[0]
    await client.say("The sofa arrived with a broken leg")
    assert "order number" in (await bot_texts(client, 1))[0]
    await client.say("it is BC12345678")
    assert "reach you" in (await bot_texts(client, 1))[0]
    await client.say("jane@example.com")
    handover, ticket_notice = await bot_texts(client, 2)
    assert "colleague" in handover and re.search(r"HL-\d+", ticket_notice)
    (ticket,) = tickets_of(stack, signed.split(".")[0])
    assert ticket.reason == "complaint" and ticket.status == "classified"
    assert ticket.details == {
        "complaint_details": "The sofa arrived with a broken leg",
        "order_number": "BC12345678",
        "contact": "jane@example.com",
    }
    number = ticket.number
    await client.say(f"what's the status of ticket {number}?")
    status = (await bot_texts(client, 1))[0]
    # Queued: the customer hears where they stand instead of the bot answering.
    assert "saved for our team" in status or number in status
    await client.say("never mind")
    assert "left the queue" in (await bot_texts(client, 1))[0]
    await client.say(f"what's the status of ticket {number}?")
    assert f"Ticket {number} is closed" in (await bot_texts(client, 1))[0]
    await client.close()


async def test_two_fallbacks_offer_a_person_with_the_reason(stack: Stack) -> None:
    client = ChatClient()
    signed = await client.connect(stack.url)
    await client.say("Which planet has the most moons?")
    await bot_texts(client, 1)
    await client.say("Who painted the Mona Lisa?")
    offer = await client.next_of("bot_uttered", timeout=30)
    assert "talk to a person" in offer["text"]
    accept = offer["quick_replies"][0]
    assert "repeated_fallback" in accept["payload"]
    await client.say(accept["payload"])
    await bot_texts(client, 2)
    (ticket,) = tickets_of(stack, signed.split(".")[0])
    assert ticket.reason == "repeated_fallback"
    await client.close()


async def test_negative_feedback_is_stored_and_twice_offers_a_person(stack: Stack) -> None:
    client = ChatClient()
    await client.connect(stack.url)
    for _ in range(2):
        await client.say("how do I cancel my order")
        answer = await client.next_of("bot_uttered", timeout=30)
        thumbs_down = next(b for b in answer["quick_replies"] if "no" in b["payload"])
        await client.say(thumbs_down["payload"])
        reply = await client.next_of("bot_uttered", timeout=30)
    assert "talk to a person" in reply["text"]
    assert "negative_feedback" in reply["quick_replies"][0]["payload"]
    await client.close()


async def test_upset_customer_is_offered_a_person(stack: Stack) -> None:
    client = ChatClient()
    await client.connect(stack.url)
    await client.say("This is absolutely useless, I am furious with you people!!")
    reply = await client.next_of("bot_uttered", timeout=30)
    await client.close()
    assert "talk to a person" in reply["text"] or "what went wrong" in reply["text"]


async def test_action_server_suggests_faq_answers_for_agents(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.settings.action_port}/kb/suggest"
    response = httpx.get(url, params={"q": "cancel an order"}, timeout=10)
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert suggestions and "cancel" in suggestions[0]["faq_id"] and suggestions[0]["answer"]
    assert httpx.get(url, params={"q": ""}, timeout=10).status_code == 400
