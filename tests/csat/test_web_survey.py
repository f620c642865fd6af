"""The survey on the web chat, through the real gateway (socket.io) and database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.csat import dialogue
from tests.csat.helpers import surveys_of, transcript_of
from tests.gateway_harness import ChatClient, Gateway, ScriptedRasa, running_gateway

CLOSING = {"bye": "goodbye", "thanks, that's all": "thanks"}


def scripted() -> ScriptedRasa:
    return ScriptedRasa(intents=dict(CLOSING))


async def bot_says(customer: ChatClient) -> dict[str, Any]:
    return await customer.next_of("bot_uttered")


async def start_rated_chat(gateway: Gateway) -> tuple[ChatClient, str, dict[str, Any]]:
    """A customer asks a question, says bye and gets the rating prompt."""
    customer = ChatClient()
    signed = await customer.connect(gateway.url)
    await customer.say("question: how do I return a jacket?")
    assert (await bot_says(customer))["text"] == "echo: question: how do I return a jacket?"
    await customer.say("bye")
    assert (await bot_says(customer))["text"] == "echo: bye"
    prompt = await bot_says(customer)
    return customer, signed.split(".")[0], prompt


def payloads(prompt: dict[str, Any]) -> dict[str, str]:
    return {reply["title"]: reply["payload"] for reply in prompt["quick_replies"]}


async def test_bot_closed_chat_rating_recommend_and_comment(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        assert prompt["text"] == dialogue.RATE_PROMPT
        assert [r["title"] for r in prompt["quick_replies"]] == ["1", "2", "3", "4", "5"]
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.trigger, survey.state, survey.channel, survey.ticket_id) == ("bot_resolved", "asked", "web", None)
        assert payloads(prompt)["4"] == f'/csat_rate{{"survey":{survey.id},"rating":4}}'
        rasa_calls = len(gateway.rasa.calls)

        ack = await customer.say(payloads(prompt)["4"])
        assert ack["status"] == "stored"
        recommend = await bot_says(customer)
        assert recommend["text"] == dialogue.RECOMMEND_PROMPT.format(rating=4)
        assert [r["title"] for r in recommend["quick_replies"]] == ["Yes", "No"]
        await customer.say(payloads(recommend)["Yes"])
        comment = await bot_says(customer)
        assert comment["text"] == dialogue.COMMENT_PROMPT
        assert [r["title"] for r in comment["quick_replies"]] == ["No, thanks"]
        await customer.say("Quick and friendly, thank you")
        assert (await bot_says(customer))["text"] == dialogue.THANKS_FOR_COMMENT
        assert len(gateway.rasa.calls) == rasa_calls  # Rasa saw none of the survey

        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating, survey.would_recommend) == ("done", 4, True)
        assert survey.comment == "Quick and friendly, thank you"
        assert survey.rated_at is not None and survey.asked_at <= survey.rated_at <= survey.updated_at

        # Every prompt and answer is in the transcript, the answers annotated.
        rows = transcript_of(database_url, conversation_id)
        assert [m.text for m in rows[-7:]] == [
            dialogue.RATE_PROMPT, payloads(prompt)["4"], dialogue.RECOMMEND_PROMPT.format(rating=4),
            payloads(recommend)["Yes"], dialogue.COMMENT_PROMPT, "Quick and friendly, thank you",
            dialogue.THANKS_FOR_COMMENT,
        ]
        answers = [m for m in rows if m.direction == "in"][-3:]
        assert [(m.intent, m.status) for m in answers] == [
            ("csat_rate", "answered"), ("csat_recommend", "answered"), ("csat_comment", "answered")
        ]
        await customer.close()


async def test_no_thanks_ends_the_survey_and_the_next_message_goes_to_the_bot(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        await customer.say(payloads(prompt)["2"])
        await customer.say(payloads(await bot_says(customer))["No"])
        await customer.say(payloads(await bot_says(customer))["No, thanks"])
        assert (await bot_says(customer))["text"] == dialogue.THANKS
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == ("done", 2, False, None)
        await customer.say("one more thing")
        assert (await bot_says(customer))["text"] == "echo: one more thing"
        await customer.close()


async def test_a_customer_who_ignores_the_survey_is_answered_and_the_survey_expires(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        await customer.say("actually, where is my parcel?")
        assert (await bot_says(customer))["text"] == "echo: actually, where is my parcel?"
        assert gateway.rasa.calls[-1]["message"] == "actually, where is my parcel?"
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating) == ("expired", None)

        # A late press of the old buttons gets a polite line; nothing changes.
        rasa_calls = len(gateway.rasa.calls)
        await customer.say(payloads(prompt)["5"])
        assert (await bot_says(customer))["text"] == dialogue.CLOSED
        assert len(gateway.rasa.calls) == rasa_calls
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating) == ("expired", None)

        # Within the re-ask window the bot does not ask again, even after a new answer.
        await customer.say("question: and my invoice?")
        await bot_says(customer)
        await customer.say("bye")
        assert (await bot_says(customer))["text"] == "echo: bye"
        await customer.say("hello again")
        assert (await bot_says(customer))["text"] == "echo: hello again"
        assert len(surveys_of(database_url, conversation_id)) == 1
        await customer.close()


async def test_a_text_after_the_rating_step_is_a_new_question_not_a_comment(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        await customer.say(payloads(prompt)["3"])
        await bot_says(customer)  # would you recommend us?
        await customer.say("how long does delivery take?")
        assert (await bot_says(customer))["text"] == "echo: how long does delivery take?"
        (survey,) = surveys_of(database_url, conversation_id)
        # The rating counts (rated / asked); the dialogue ended before the recommend answer.
        assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == ("expired", 3, None, None)
        await customer.close()


async def test_bad_forged_and_foreign_payloads_get_a_polite_line_and_change_nothing(
    tmp_path: Path, database_url: str
) -> None:
    # Fourteen payloads in quick succession would trip the public chat's flood limit
    # (tests/replicas/test_abuse.py covers it); here each must reach the survey code.
    no_flood_limit = {"chat_messages_per_conversation": 0}
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted(),
                               extra_settings=no_flood_limit) as gateway:
        other, other_id, other_prompt = await start_rated_chat(gateway)
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        (mine,) = surveys_of(database_url, conversation_id)
        (theirs,) = surveys_of(database_url, other_id)
        rasa_calls = len(gateway.rasa.calls)
        bad = [
            f'/csat_rate{{"survey":{mine.id},"rating":7}}',
            f'/csat_rate{{"survey":{mine.id},"rating":0}}',
            f'/csat_rate{{"survey":{mine.id},"rating":"4"}}',
            f'/csat_rate{{"survey":{mine.id},"rating":true}}',
            f'/csat_rate{{"survey":{mine.id},"rating":4.0}}',
            f'/csat_rate{{"survey":{mine.id},"rating":4,"admin":1}}',
            '/csat_rate{"survey":true,"rating":4}',
            f'/csat_rate{{"survey":{mine.id},"rating":4',
            "/csat_rate",
            f'/csat_drop_table{{"survey":{mine.id}}}',
            f'/csat_recommend{{"survey":{mine.id},"answer":"yes"}}',  # not its turn yet
            f'/csat_rate{{"survey":{theirs.id},"rating":1}}',  # another conversation's survey
            '/csat_rate{"survey":99999999,"rating":5}',
            "/csat_rate{" + "9" * 5000 + "}",  # too long: refused before the pipeline
        ]
        for text in bad[:-1]:
            ack = await customer.say(text)
            assert ack["status"] == "stored"
            assert (await bot_says(customer))["text"] == dialogue.UNUSABLE, text
        assert (await customer.say(bad[-1]))["status"] == "refused"
        # Refusals also arrive in Rasa's message shape, so existing widgets show the reason.
        told = await bot_says(customer)
        assert told["text"].startswith("Message too long") and told["metadata"]["notice"]
        assert len(gateway.rasa.calls) == rasa_calls
        for conversation, survey in ((conversation_id, mine), (other_id, theirs)):
            (now,) = surveys_of(database_url, conversation)
            assert (now.state, now.rating) == ("asked", None)

        # The real buttons still work afterwards; the other customer saw nothing.
        await customer.say(payloads(prompt)["5"])
        assert (await bot_says(customer))["text"] == dialogue.RECOMMEND_PROMPT.format(rating=5)
        await customer.say(payloads(prompt)["1"])  # the rating pressed again
        assert (await bot_says(customer))["text"] == dialogue.ALREADY_ANSWERED
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating) == ("rated", 5)
        assert other.events.empty()
        rows = transcript_of(database_url, conversation_id)
        assert {m.intent for m in rows if m.direction == "in" and m.text in bad} == {"csat_invalid"}
        await customer.close()
        await other.close()


async def test_the_survey_survives_a_gateway_restart(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer, conversation_id, prompt = await start_rated_chat(gateway)
        signed = customer.session_id
        await customer.say(payloads(prompt)["4"])
        recommend = await bot_says(customer)
        await customer.close()
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as restarted:
        again = ChatClient()
        assert await again.connect(restarted.url, session_id=signed) == signed
        await again.say(payloads(recommend)["No"])
        assert (await bot_says(again))["text"] == dialogue.COMMENT_PROMPT
        await again.say("The jacket was the wrong size")
        assert (await bot_says(again))["text"] == dialogue.THANKS_FOR_COMMENT
        assert restarted.rasa.calls == []
        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.state, survey.rating, survey.would_recommend) == ("done", 4, False)
        assert survey.comment == "The jacket was the wrong size"
        await again.close()


async def test_nothing_is_asked_when_csat_is_off_or_the_bot_answered_nothing(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, csat=True, rasa=scripted()) as gateway:
        customer = ChatClient()
        signed = await customer.connect(gateway.url)
        await customer.say("hello")
        await bot_says(customer)
        await customer.say("thanks, that's all")  # no question was answered
        assert (await bot_says(customer))["text"] == "echo: thanks, that's all"
        await customer.say("ok")
        assert (await bot_says(customer))["text"] == "echo: ok"
        assert surveys_of(database_url, signed.split(".")[0]) == []
        await customer.close()
    async with running_gateway(tmp_path, database_url, csat=False, rasa=scripted()) as gateway:
        customer = ChatClient()
        signed = await customer.connect(gateway.url)
        await customer.say("question: opening hours?")
        await bot_says(customer)
        await customer.say("bye")
        assert (await bot_says(customer))["text"] == "echo: bye"
        await customer.say("ok")
        assert (await bot_says(customer))["text"] == "echo: ok"
        assert surveys_of(database_url, signed.split(".")[0]) == []
        await customer.close()


def test_payload_title_map_is_json() -> None:
    # The payloads the buttons carry are plain JSON after the step name.
    body = dialogue.rating_prompt(12).buttons[3]["payload"].split("{", 1)[1]  # type: ignore[index]
    assert json.loads("{" + body) == {"survey": 12, "rating": 4}
