"""An agent resolves a web customer's ticket through the console API: the rating prompt
follows the resolution note; a hand-back asks nothing."""

from __future__ import annotations

from pathlib import Path

from bot.csat import dialogue
from tests.csat.helpers import surveys_of, transcript_of
from tests.gateway_harness import ChatClient, ScriptedRasa, running_gateway
from tests.staff.test_console import Agent, add_user


async def escalated_customer(gateway_url: str, text: str) -> tuple[ChatClient, str]:
    customer = ChatClient()
    signed = await customer.connect(gateway_url)
    await customer.say(text)
    await customer.next_of("bot_uttered")  # handover line
    await customer.next_of("bot_uttered")  # ticket number and queue place
    return customer, signed.split(".")[0]


async def test_resolved_ticket_is_rated_after_the_note_and_a_hand_back_is_not(
    tmp_path: Path, database_url: str
) -> None:
    rasa = ScriptedRasa(intents={"bye": "goodbye"})
    async with running_gateway(tmp_path, database_url, csat=True, rasa=rasa) as gateway:
        add_user(database_url, "dee@example.com", "Dee")
        dee = Agent(gateway, "dee@example.com")
        await dee.login()

        customer, conversation_id = await escalated_customer(gateway.url, "human, my refund is missing")
        # Queued: "bye" goes to the queue, not the bot, and no survey is asked.
        await customer.say("bye")
        assert "saved for our team" in (await customer.next_of("bot_uttered"))["text"]
        ticket_id = (await dee.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await dee.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        await customer.next_of("bot_uttered")  # Dee has joined
        assert (await dee.post(f"/api/tickets/{ticket_id}/messages", {"text": "Checking now."})).status_code == 201
        await customer.next_of("bot_uttered")
        assert surveys_of(database_url, conversation_id) == []

        done = await dee.post(f"/api/tickets/{ticket_id}/resolve",
                              {"note": "Your refund was sent today.", "category": "returns_refunds"})
        assert done.status_code == 200
        note = await customer.next_of("bot_uttered")
        prompt = await customer.next_of("bot_uttered")
        assert note["metadata"]["author"] == "system" and note["text"].endswith("resolved: Your refund was sent today.")
        assert prompt["text"] == dialogue.RATE_PROMPT and prompt["metadata"]["author"] == "bot"
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.trigger, survey.ticket_id, survey.state) == ("ticket_resolved", ticket_id, "asked")
        texts = [m.text for m in transcript_of(database_url, conversation_id)]
        assert texts[-2:] == [note["text"], dialogue.RATE_PROMPT]  # in this order, stored as delivered

        choices = {r["title"]: r["payload"] for r in prompt["quick_replies"]}
        await customer.say(choices["5"])
        recommend = await customer.next_of("bot_uttered")
        await customer.say({r["title"]: r["payload"] for r in recommend["quick_replies"]}["Yes"])
        assert (await customer.next_of("bot_uttered"))["text"] == dialogue.COMMENT_PROMPT
        await customer.say("Dee sorted it in minutes")
        assert (await customer.next_of("bot_uttered"))["text"] == dialogue.THANKS_FOR_COMMENT
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == (
            "done", 5, True, "Dee sorted it in minutes")
        # Rated after the resolution: the ticket stays resolved (a rating is no new contact).
        detail = (await dee.http.get(f"/api/tickets/{ticket_id}")).json()
        assert detail["ticket"]["status"] == "resolved"

        # A hand-back (not a resolution) asks nothing.
        other, other_id = await escalated_customer(gateway.url, "human, another question")
        other_ticket = [t for t in (await dee.http.get("/api/queue")).json()["queue"]
                        if t["conversation_id"] == other_id][0]["id"]
        assert (await dee.post(f"/api/tickets/{other_ticket}/claim")).status_code == 200
        await other.next_of("bot_uttered")
        assert (await dee.post(f"/api/tickets/{other_ticket}/hand-back", {"note": "over to the bot"})).status_code == 200
        assert "back with the Brightcart assistant" in (await other.next_of("bot_uttered"))["text"]
        assert (await other.next_of("bot_uttered"))["text"] == "echo: /handed_back"
        await other.say("thanks")
        assert (await other.next_of("bot_uttered"))["text"] == "echo: thanks"
        assert surveys_of(database_url, other_id) == []
        await customer.close()
        await other.close()
        await dee.http.aclose()
