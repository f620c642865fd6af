"""The survey on Telegram: the whole gateway (create_app) polling the fake Bot API.

Inline keyboards, callback queries (checked against what was offered), the keyboard
cleared after a press, and the comment as an ordinary Telegram text message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
import pytest

import bot.app
from bot.channels.telegram import TelegramConfig, notices
from bot.channels.telegram.handlers.button_press import CHOICE_MARK
from bot.csat import dialogue
from bot.local_stack import free_port
from tests.csat.helpers import surveys_of, transcript_of
from tests.gateway_harness import Gateway, ScriptedRasa, running_gateway
from tests.telegram.fake_bot_api import ApiCall, FakeBotApi
from tests.telegram.harness import fast_config, serving
from tests.staff.test_console import Agent, add_user

CHAT = 72_727
TICKET_NOTICE = re.compile(r"^Your ticket number is (HL-\d+)\.")


@pytest.fixture(autouse=True)
def fast_telegram_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram's real pacing (1 message/s per chat) has its own tests; here it would
    only add seconds of waiting (as in tests/telegram/test_takeover.py)."""
    monkeypatch.setattr(bot.app, "TelegramConfig", functools.partial(
        TelegramConfig, **fast_config(poll_timeout_seconds=1)))


@asynccontextmanager
async def telegram_gateway(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Gateway, FakeBotApi]]:
    api = FakeBotApi()
    api_port = free_port()
    api.url = f"http://127.0.0.1:{api_port}"
    telegram = {"telegram_bot_token": api.token, "telegram_mode": "polling", "telegram_api_url": api.url}
    rasa = ScriptedRasa(intents={"bye": "goodbye"})
    async with serving({api_port: api.app()}, before_stop=api.close):
        async with running_gateway(tmp_path, database_url, extra_settings=telegram, csat=True, rasa=rasa) as gateway:
            await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.requests), what="polling")
            yield gateway, api


async def customer_says(api: FakeBotApi, text: str, expect: int) -> list[str]:
    api.queue_update(api.text_update(CHAT, text))
    await api.wait_for(lambda: len(api.sent(CHAT)) >= expect, what=f"{expect} messages in the chat")
    return api.sent_texts(CHAT)


async def press(api: FakeBotApi, offer: ApiCall, title: str, expect: int) -> str:
    """Press the button titled ``title`` on ``offer``; returns the chat's newest text."""
    api.queue_update(api.press(CHAT, offer.message_id, dict(keyboard_of(offer))[title]))
    await api.wait_for(lambda: len(api.sent(CHAT)) >= expect, what=f"the answer to {title!r}")
    return api.sent_texts(CHAT)[-1]


def keyboard_of(call: ApiCall) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in call.params["reply_markup"]["inline_keyboard"] for b in row]


def rows_of(call: ApiCall) -> list[list[str]]:
    return [[b["text"] for b in row] for row in call.params["reply_markup"]["inline_keyboard"]]


def conversation_of(database_url: str) -> str:
    from sqlalchemy import select

    from bot.db import make_engine, make_session_factory
    from bot.transcript.models import Conversation

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        found = session.scalar(select(Conversation.id).where(Conversation.external_id == str(CHAT)))
    engine.dispose()
    assert found is not None
    return found


async def test_agent_resolves_a_telegram_ticket_and_the_customer_rates_it(
    tmp_path: Path, database_url: str
) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        add_user(database_url, "dee@example.com", "Dee")
        dee = Agent(gateway, "dee@example.com")
        await dee.login()
        texts = await customer_says(api, "human, my refund is missing", expect=2)
        number = TICKET_NOTICE.match(texts[1])
        assert number, texts[1]
        ticket_id = (await dee.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await dee.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        await api.wait_for(lambda: len(api.sent(CHAT)) == 3, what="the joined notice")
        # While the agent holds the chat the bot asks nothing, whatever the customer says.
        api.queue_update(api.text_update(CHAT, "bye"))
        conversation_id = conversation_of(database_url)
        await api.wait_for(lambda: [m.status for m in transcript_of(database_url, conversation_id)
                                    if m.text == "bye"] == ["forwarded"], what="bye forwarded to the agent")
        rasa_calls = len(gateway.rasa.calls)

        done = await dee.post(f"/api/tickets/{ticket_id}/resolve",
                              {"note": "Your refund was sent today.", "category": "returns_refunds"})
        assert done.status_code == 200
        await api.wait_for(lambda: len(api.sent(CHAT)) == 5, what="resolution note and rating prompt")
        note, prompt = api.sent(CHAT)[3:5]
        assert note.params["text"] == f"Your ticket {number.group(1)} has been resolved: Your refund was sent today."
        assert prompt.params["text"] == dialogue.RATE_PROMPT
        assert rows_of(prompt) == [["1", "2", "3", "4", "5"]]  # one row: a scale
        assert all(len(data.encode()) <= 64 and data.startswith("/csat_rate{") for _, data in keyboard_of(prompt))

        assert await press(api, prompt, "4", expect=6) == dialogue.RECOMMEND_PROMPT.format(rating=4)
        # The pressed keyboard is gone and shows the choice; the spinner was stopped.
        await api.wait_for(lambda: "reply_markup" not in api.message(CHAT, prompt.message_id), what="keyboard cleared")
        assert api.message(CHAT, prompt.message_id)["text"] == f"{dialogue.RATE_PROMPT}{CHOICE_MARK}4"
        recommend = api.sent(CHAT)[5]
        assert rows_of(recommend) == [["Yes", "No"]]
        assert await press(api, recommend, "Yes", expect=7) == dialogue.COMMENT_PROMPT
        comment = api.sent(CHAT)[6]
        assert rows_of(comment) == [["No, thanks"]]
        texts = await customer_says(api, "Dee was great", expect=8)
        assert texts[7] == dialogue.THANKS_FOR_COMMENT
        assert len(gateway.rasa.calls) == rasa_calls  # the survey never reached Rasa

        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.trigger, survey.ticket_id, survey.channel) == ("ticket_resolved", ticket_id, "telegram")
        assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == ("done", 4, True, "Dee was great")
        await dee.http.aclose()


async def test_bot_closed_telegram_chat_with_forged_and_late_presses(tmp_path: Path, database_url: str) -> None:
    async with telegram_gateway(tmp_path, database_url) as (gateway, api):
        await customer_says(api, "question: do you ship abroad?", expect=1)
        texts = await customer_says(api, "bye", expect=3)
        assert texts[1:] == ["echo: bye", dialogue.RATE_PROMPT]
        prompt = api.sent(CHAT)[2]
        conversation_id = conversation_of(database_url)
        (survey,) = surveys_of(database_url, conversation_id)
        rasa_calls = len(gateway.rasa.calls)

        # Callback data we never offered (an out-of-range rating, another survey) stops at
        # the keyboard check: answered with a notice, never stored or answered.
        for forged in (f'/csat_rate{{"survey":{survey.id},"rating":9}}', '/csat_rate{"survey":1234,"rating":5}'):
            api.queue_update(api.press(CHAT, prompt.message_id, forged))
        await api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 2, what="two answered presses")
        assert [a.params.get("text") for a in api.calls_to("answerCallbackQuery")] == [notices.UNKNOWN_BUTTON] * 2

        assert await press(api, prompt, "2", expect=4) == dialogue.RECOMMEND_PROMPT.format(rating=2)
        recommend = api.sent(CHAT)[3]
        assert await press(api, recommend, "No", expect=5) == dialogue.COMMENT_PROMPT
        comment = api.sent(CHAT)[4]
        assert await press(api, comment, "No, thanks", expect=6) == dialogue.THANKS
        # Telegram removed the answered keyboards; a client that still presses one sends
        # a duplicate of that keyboard's answer: the spinner stops, nothing else happens.
        answered = len(api.calls_to("answerCallbackQuery"))
        api.queue_update(api.press(CHAT, recommend.message_id, dict(keyboard_of(recommend))["Yes"]))
        await api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == answered + 1, what="late press")
        assert len(gateway.rasa.calls) == rasa_calls

        (survey,) = surveys_of(database_url, conversation_id)
        assert (survey.trigger, survey.state, survey.rating, survey.would_recommend, survey.comment) == (
            "bot_resolved", "done", 2, False, None)
        inbound = [m for m in transcript_of(database_url, conversation_id) if m.direction == "in"]
        assert [m.intent for m in inbound[-3:]] == ["csat_rate", "csat_recommend", "csat_skip"]
        # The bot answers the next question as usual.
        texts = await customer_says(api, "and to Norway?", expect=7)
        assert texts[6:] == ["echo: and to Norway?"]


def test_keyboard_rows_are_unchanged_for_other_buttons() -> None:
    from bot.channels.telegram.keyboards import Button, inline_keyboard

    survey = inline_keyboard([Button("Yes", '/csat_recommend{"survey":3,"answer":"yes"}'),
                              Button("No", '/csat_recommend{"survey":3,"answer":"no"}')])
    other = inline_keyboard([Button("Yes", "/affirm"), Button("No", "/deny")])
    mixed = inline_keyboard([Button("Yes", '/csat_recommend{"survey":3,"answer":"yes"}'), Button("No", "/deny")])
    forged = inline_keyboard([Button("9", '/csat_rate{"survey":3,"rating":9}')])
    shape = lambda k: [len(row) for row in k.to_dict()["inline_keyboard"]]  # noqa: E731
    assert survey is not None and other is not None and mixed is not None and forged is not None
    assert (shape(survey), shape(other), shape(mixed), shape(forged)) == ([2], [1, 1], [1, 1], [1])
