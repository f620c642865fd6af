"""When the survey is asked and how answers are taken: CsatSurveys on a real database
with the real Handoff deciding who owns the conversation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.csat import dialogue
from bot.csat.payloads import (
    MAX_SURVEY_ID,
    Malformed,
    SurveyAnswer,
    parse,
    rate_payload,
    recommend_payload,
    skip_payload,
)
from bot.csat.service import CsatPolicy, CsatSurveys
from bot.db import make_engine, make_session_factory
from bot.transcript.models import utcnow
from bot.transcript.store import OutboundDraft, StoredMessage, TranscriptStore
from handoff import Handoff, HandoffPolicy
from tests.csat.helpers import surveys_of

PROJECT = Path(__file__).resolve().parents[2]
ANSWER = {"rule": "answer", "faq_id": "delivery.abroad", "score": 0.8}


class World:
    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self.sessions = make_session_factory(self.engine)
        self.store = TranscriptStore(self.sessions)
        self.handoff = Handoff(HandoffPolicy())
        self.csat = CsatSurveys(self.sessions, CsatPolicy(), self.handoff.bot_may_speak)

    def with_policy(self, **changes: object) -> CsatSurveys:
        return CsatSurveys(self.sessions, replace(CsatPolicy(), **changes), self.handoff.bot_may_speak)  # type: ignore[arg-type]

    async def conversation(self) -> str:
        conversation_id = uuid.uuid4().hex
        await self.store.ensure_conversation(conversation_id, "web")
        return conversation_id

    async def bot_answers(self, conversation_id: str, trail: dict[str, object] | None = ANSWER) -> None:
        await self.store.record_outbound(conversation_id, "web", [OutboundDraft(text="An answer", faq_trail=trail)])

    async def customer(self, conversation_id: str, text: str) -> StoredMessage:
        return (await self.store.record_inbound(conversation_id, "web", text, None)).message


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    built = World(database_url)
    yield built
    built.engine.dispose()


async def test_the_bot_asks_only_after_answering_on_a_closing_intent_once_per_window(world: World) -> None:
    chat = await world.conversation()
    assert await world.csat.ask_after_bot_turn(chat, "web", "goodbye") == []  # nothing answered yet
    await world.bot_answers(chat, {"rule": "fallback"})
    await world.bot_answers(chat, {"rule": "suggest"})
    assert await world.csat.ask_after_bot_turn(chat, "web", "thanks") == []  # no answer among them
    await world.bot_answers(chat)
    for intent in ("faq", "greet", "affirm", None):
        assert await world.csat.ask_after_bot_turn(chat, "web", intent) == []
    (prompt,) = await world.csat.ask_after_bot_turn(chat, "web", "thanks")
    assert prompt.text == dialogue.RATE_PROMPT and prompt.buttons is not None and len(prompt.buttons) == 5
    await world.bot_answers(chat)
    assert await world.csat.ask_after_bot_turn(chat, "web", "goodbye") == []  # inside the window

    eager = world.with_policy(reask_window=timedelta(0))
    (first,) = surveys_of(world.url, chat)
    (again,) = await eager.ask_after_bot_turn(chat, "web", "goodbye")  # new answer since
    assert await eager.ask_after_bot_turn(chat, "web", "goodbye") == []  # no answer since the last
    older, newer = surveys_of(world.url, chat)
    assert older.id == first.id and older.state == "expired"  # superseded by the new survey
    assert newer.state == "asked" and again.buttons == dialogue.rating_prompt(newer.id).buttons

    off = world.with_policy(enabled=False)
    other = await world.conversation()
    await world.bot_answers(other)
    assert await off.ask_after_bot_turn(other, "web", "goodbye") == []
    assert await off.ask_after_resolution(other, "web", 1) == []
    assert surveys_of(world.url, other) == []


async def test_never_asked_while_queued_or_while_an_agent_owns_the_chat(world: World) -> None:
    chat = await world.conversation()
    await world.bot_answers(chat)
    with world.sessions.begin() as session:
        ticket = world.handoff.escalate(session, chat, "web", "customer_request", summary="help")
        ticket_id = ticket.id
    assert await world.csat.ask_after_bot_turn(chat, "web", "goodbye") == []
    assert await world.csat.ask_after_resolution(chat, "web", ticket_id) == []
    with world.sessions.begin() as session:
        world.handoff.set_presence(session, 1, "online")
        world.handoff.claim(session, ticket_id, 1)
    assert await world.csat.ask_after_bot_turn(chat, "web", "goodbye") == []
    assert await world.csat.ask_after_resolution(chat, "web", ticket_id) == []
    assert surveys_of(world.url, chat) == []
    with world.sessions.begin() as session:
        world.handoff.resolve(session, ticket_id, 1, "done")
    (prompt,) = await world.csat.ask_after_resolution(chat, "web", ticket_id)
    assert prompt.text == dialogue.RATE_PROMPT
    assert await world.csat.ask_after_resolution(chat, "web", ticket_id) == []  # once per ticket
    (survey,) = surveys_of(world.url, chat)
    assert (survey.trigger, survey.ticket_id, survey.state) == ("ticket_resolved", ticket_id, "asked")


async def test_comment_only_in_the_comment_step_and_within_its_window(world: World) -> None:
    chat = await world.conversation()
    await world.bot_answers(chat)
    strict = world.with_policy(comment_window=timedelta(0))
    await strict.ask_after_bot_turn(chat, "web", "goodbye")
    (survey,) = surveys_of(world.url, chat)
    for payload in (rate_payload(survey.id, 5), recommend_payload(survey.id, True)):
        assert await strict.take(await world.customer(chat, payload)) is not None
    # Sent after the window (zero here): a new question, not a comment.
    assert await strict.take(await world.customer(chat, "when do you open?")) is None
    (survey,) = surveys_of(world.url, chat)
    assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == ("done", 5, True, None)

    second = await world.conversation()
    await world.bot_answers(second)
    await world.csat.ask_after_bot_turn(second, "web", "thanks")
    (survey,) = surveys_of(world.url, second)
    await world.csat.take(await world.customer(second, rate_payload(survey.id, 3)))
    await world.csat.take(await world.customer(second, recommend_payload(survey.id, False)))
    # A button of the bot's (not typed text) is no comment either.
    assert await world.csat.take(await world.customer(second, "/affirm"), button_intent="affirm") is None
    (survey,) = surveys_of(world.url, second)
    assert (survey.state, survey.comment) == ("done", None)


async def test_a_thumbs_up_keeps_the_survey_open_and_no_survey_means_no_interference(world: World) -> None:
    chat = await world.conversation()
    assert await world.csat.take(await world.customer(chat, "hello")) is None
    assert surveys_of(world.url, chat) == []
    await world.bot_answers(chat)
    await world.csat.ask_after_bot_turn(chat, "web", "goodbye")
    feedback = '/feedback{"helpful":"yes","faq_id":"delivery.abroad"}'
    assert await world.csat.take(await world.customer(chat, feedback), button_intent="feedback") is None
    (survey,) = surveys_of(world.url, chat)
    assert survey.state == "asked"
    turn = await world.csat.take(await world.customer(chat, rate_payload(survey.id, 1)))
    assert turn is not None and turn.intent == "csat_rate"
    assert [d.text for d in turn.drafts] == [dialogue.RECOMMEND_PROMPT.format(rating=1)]
    skipped = await world.csat.take(await world.customer(chat, skip_payload(survey.id)))
    assert skipped is not None and [d.text for d in skipped.drafts] == [dialogue.UNUSABLE]  # not its turn


def test_payloads_parse_strictly() -> None:
    assert parse("hello") is None
    assert parse("/affirm") is None
    assert parse(rate_payload(7, 4)) == SurveyAnswer("rate", 7, rating=4)
    assert parse(f"  {recommend_payload(7, False)} ") == SurveyAnswer("recommend", 7, would_recommend=False)
    assert parse(skip_payload(7)) == SurveyAnswer("skip", 7)
    for bad in (
        "/csat_rate", "/csat_rate{}", '/csat_rate{"survey":7}', '/csat_rate{"survey":7,"rating":6}',
        '/csat_rate{"survey":7,"rating":-1}', '/csat_rate{"survey":7,"rating":null}',
        '/csat_rate{"survey":7,"rating":[4]}', '/csat_rate{"survey":0,"rating":4}',
        f'/csat_rate{{"survey":{MAX_SURVEY_ID + 1},"rating":4}}', '/csat_rate{"survey":"7","rating":4}',
        '/csat_recommend{"survey":7,"answer":true}', '/csat_recommend{"survey":7,"answer":"maybe"}',
        '/csat_skip{"survey":7,"x":1}', '/csat_rate["survey",7]', '/csat_rate{"survey":7,"rating":4}}',
        '/csat_Rate{"survey":7,"rating":4}', '/csat_rate {"survey":7,"rating":4}',
    ):
        assert isinstance(parse(bad), Malformed), bad


def test_payloads_fit_telegram_callback_data_and_no_rasa_intent_uses_the_prefix() -> None:
    for payload in (rate_payload(MAX_SURVEY_ID, 5), recommend_payload(MAX_SURVEY_ID, False),
                    skip_payload(MAX_SURVEY_ID)):
        assert len(payload.encode()) <= 64, payload
    domain = yaml.safe_load((PROJECT / "domain.yml").read_text())
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    assert "goodbye" in intents and "thanks" in intents
    assert not [i for i in intents if i.startswith("csat")]


async def test_survey_buttons_stop_working_after_the_answer_window(world: World) -> None:
    def at(days: float) -> CsatSurveys:
        later = utcnow() + timedelta(days=days)
        return CsatSurveys(world.sessions, CsatPolicy(), world.handoff.bot_may_speak, now=lambda: later)

    async def asked() -> tuple[str, int]:
        """A chat the bot answered and then asked to rate: (conversation, survey id)."""
        chat = await world.conversation()
        await world.bot_answers(chat)
        await world.csat.ask_after_bot_turn(chat, "web", "goodbye")
        (survey,) = surveys_of(world.url, chat)
        return chat, survey.id

    chat, survey_id = await asked()
    late = await at(8).take(await world.customer(chat, rate_payload(survey_id, 5)))
    assert late is not None and late.intent == "csat_stale"
    assert [d.text for d in late.drafts] == [dialogue.CLOSED]
    (survey,) = surveys_of(world.url, chat)
    assert (survey.state, survey.rating) == ("expired", None)  # never counted as a rating

    # Rated in time, the follow-up pressed after the window: the rating stands, the rest closes.
    other, survey_id = await asked()
    rated = await at(6).take(await world.customer(other, rate_payload(survey_id, 4)))
    assert rated is not None and rated.intent == "csat_rate"
    closed = await at(7.5).take(await world.customer(other, recommend_payload(survey_id, True)))
    assert closed is not None and [d.text for d in closed.drafts] == [dialogue.CLOSED]
    (survey,) = surveys_of(world.url, other)
    assert (survey.state, survey.rating, survey.would_recommend) == ("done", 4, None)
