"""Play the scripted conversations in tests/conversations/*.yml against a running stack.

A conversation is a list of turns; each turn says something (or presses a button the bot
offered) and states what the customer must see back. The expectations name *which*
message the customer gets (an FAQ's answer, the fallback, an offer of a person, a form
question...) through the constants the bot itself uses, so rewording a message does not
break the suite but answering with the wrong one does. Used by
tests/conversations/test_conversations.py (pytest) and scripts/nlu/conversation_report.py
(prints the share that pass).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from actions.escalation import ASK_CONTACT, ASK_DETAILS, ASK_ORDER, FORM_STOPPED, HANDOVER
from actions.faq import FALLBACK, SUGGEST_PROMPT
from actions.offers import NONE_OF_THESE, OFFER_HUMAN
from actions.short_answers import NOT_ASKED
from bot.csat import dialogue as survey_text
from bot.db import make_engine, make_session_factory
from handoff.models import Ticket
from tests.gateway_harness import ChatClient

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
FIRST_REPLY_SECONDS = 45.0
# A bot turn's messages are delivered together; this much quiet means the turn is over.
QUIET_SECONDS = 0.7
TICKET_NOTICE = re.compile(r"Your ticket number is (HL-\d+)")
# The gateway lets one IP open HELPLINE_CHAT_NEW_CONVERSATIONS_PER_IP (30) conversations a
# minute; every scripted customer comes from 127.0.0.1, so the player stays below that.
NEW_CONVERSATIONS_PER_MINUTE = 25

FORM_QUESTIONS = {
    "complaint_details": ASK_DETAILS,
    "order_number": ASK_ORDER,
    "contact": ASK_CONTACT,
}
SURVEY_STEPS = {
    "rate": survey_text.RATE_PROMPT,
    "recommend": survey_text.RECOMMEND_PROMPT.split("{")[0],
    "comment": survey_text.COMMENT_PROMPT,
    "thanks": survey_text.THANKS,
    "comment_saved": survey_text.THANKS_FOR_COMMENT,
}


@dataclass(frozen=True)
class Conversation:
    name: str
    file: str
    turns: list[dict[str, Any]]
    ticket: dict[str, Any] | None  # expected at the end; None = no check; {} = no ticket


@dataclass
class Outcome:
    conversation: Conversation
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_conversations(directory: Path = HERE) -> list[Conversation]:
    conversations = []
    for path in sorted(directory.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            conversations.append(Conversation(item["name"], path.name, item["turns"], item.get("ticket")))
    names = [c.name for c in conversations]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"conversation names must be unique: {sorted(duplicates)}")
    return conversations


def faq_answers(faq_dir: Path = PROJECT / "data" / "faq") -> dict[str, str]:
    answers = {}
    for path in faq_dir.glob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("faqs") or []:
            answers[entry["id"]] = str(entry["answer"]).strip()
    return answers


def message_text(turn: dict[str, Any]) -> str:
    text = str(turn["say"])
    filler = turn.get("pad_before")
    if filler:
        padding = ""
        while len(padding) + len(text) + len(filler) + 2 < int(turn.get("pad_to", 3900)):
            padding += filler + " "
        text = padding + text
    return text


class Player:
    def __init__(self, url: str, database_url: str) -> None:
        self.url = url
        self.database_url = database_url
        self.answers = faq_answers()
        self._opened: list[float] = []

    async def _pace(self) -> None:
        self._opened = [t for t in self._opened if time.monotonic() - t < 60]
        if len(self._opened) >= NEW_CONVERSATIONS_PER_MINUTE:
            await asyncio.sleep(60 - (time.monotonic() - self._opened[0]) + 0.1)
        self._opened.append(time.monotonic())

    async def replies(self, client: ChatClient) -> list[dict[str, Any]]:
        got = [await client.next_of("bot_uttered", timeout=FIRST_REPLY_SECONDS)]
        while True:
            try:
                got.append(await client.next_of("bot_uttered", timeout=QUIET_SECONDS))
            except asyncio.TimeoutError:
                return got

    def tickets(self, conversation_id: str) -> list[Ticket]:
        engine = make_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                rows = list(session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)))
                session.expunge_all()
        finally:
            engine.dispose()
        return rows

    async def play(self, conversation: Conversation) -> Outcome:
        outcome = Outcome(conversation)
        await self._pace()
        client = ChatClient()
        signed = await client.connect(self.url)
        conversation_id = signed.split(".")[0]
        last_buttons: list[dict[str, Any]] = []
        try:
            for number, turn in enumerate(conversation.turns, start=1):
                if "press" in turn:
                    button = next((b for b in last_buttons if b.get("title") == turn["press"]), None)
                    if button is None:
                        titles = [b.get("title") for b in last_buttons]
                        outcome.failures.append(f"turn {number}: no button {turn['press']!r} (offered: {titles})")
                        return outcome
                    said = str(button["payload"])
                else:
                    said = message_text(turn)
                await client.say(said)
                try:
                    replies = await self.replies(client)
                except asyncio.TimeoutError:
                    outcome.failures.append(f"turn {number}: no reply to {said[:60]!r}")
                    return outcome
                with_buttons = [r for r in replies if r.get("quick_replies")]
                if with_buttons:
                    last_buttons = with_buttons[-1]["quick_replies"]
                problems = self.check(turn.get("expect") or {}, replies, conversation_id)
                outcome.failures += [f"turn {number} ({said[:50]!r}): {p}" for p in problems]
                if problems:
                    return outcome
            if conversation.ticket is not None:
                outcome.failures += self.check_ticket(conversation.ticket, conversation_id)
        finally:
            await client.close()
        return outcome

    def check(self, expect: dict[str, Any], replies: list[dict[str, Any]], conversation_id: str) -> list[str]:
        texts = [str(r.get("text") or "") for r in replies]
        buttons = [b for r in replies for b in (r.get("quick_replies") or [])]
        payloads = [str(b.get("payload") or "") for b in buttons]
        shown = " | ".join(t[:90] for t in texts)
        problems: list[str] = []

        def need(condition: bool, what: str) -> None:
            if not condition:
                problems.append(f"expected {what}; got: {shown} {[b.get('title') for b in buttons]}")

        def answered(faq_id: str) -> bool:
            answer = self.answers.get(faq_id)
            return answer is not None and answer in [t.strip() for t in texts] and any(
                p.startswith("/feedback") and f'"{faq_id}"' in p for p in payloads)

        def suggested(faq_id: str | None) -> bool:
            offered = SUGGEST_PROMPT in texts and any(b.get("title") == NONE_OF_THESE for b in buttons)
            return offered and (faq_id is None or any(p.startswith("/faq_select") and f'"{faq_id}"' in p
                                                      for p in payloads))

        if "answer" in expect:
            need(answered(expect["answer"]), f"the answer of {expect['answer']}")
        if "answer_or_suggest" in expect:
            faq_id = expect["answer_or_suggest"]
            need(answered(faq_id) or suggested(faq_id), f"{faq_id} answered or suggested")
        if "suggest" in expect:
            wanted = expect["suggest"]
            for faq_id in (wanted if isinstance(wanted, list) else [None]):
                need(suggested(faq_id), f"suggestions including {faq_id or 'any FAQ'}")
        if expect.get("fallback"):
            need(FALLBACK in texts, "the FAQ fallback")
        if expect.get("not_understood"):
            need(NOT_ASKED in texts, "'not sure what that answers'")
        if "no_faq_answer" in expect:
            need(not any(p.startswith("/feedback") for p in payloads), "no FAQ answer")
        if "offer_human" in expect:
            need(OFFER_HUMAN in texts and any(
                p.startswith("/request_human") and f'"{expect["offer_human"]}"' in p for p in payloads),
                f"an offer of a person ({expect['offer_human']})")
        if "ask" in expect:
            question = FORM_QUESTIONS[expect["ask"]]
            need(any(question in t for t in texts), f"the form question for {expect['ask']}")
        if expect.get("form_stopped"):
            need(FORM_STOPPED in texts, "the form stopped")
        if "survey" in expect:
            need(any(SURVEY_STEPS[expect["survey"]] in t for t in texts), f"survey step {expect['survey']}")
        if "escalated" in expect:
            notice = next((m for m in (TICKET_NOTICE.search(t) for t in texts) if m), None)
            need(HANDOVER in texts and notice is not None, "a handover and a ticket number")
            if notice is not None:
                tickets = [t for t in self.tickets(conversation_id) if t.number == notice.group(1)]
                need(bool(tickets) and tickets[0].reason == expect["escalated"],
                     f"ticket {notice.group(1)} with reason {expect['escalated']} "
                     f"(stored: {[t.reason for t in tickets]})")
        else:
            need(HANDOVER not in texts, "no handover")
        for fragment in expect.get("says") or []:
            need(any(fragment.lower() in t.lower() for t in texts), f"a reply containing {fragment!r}")
        for fragment in expect.get("not_says") or []:
            need(not any(fragment.lower() in t.lower() for t in texts), f"no reply containing {fragment!r}")
        if "buttons" in expect:
            need([b.get("title") for b in buttons] == expect["buttons"], f"buttons {expect['buttons']}")
        if "no_buttons" in expect:
            need(not buttons, "no buttons")
        return problems

    def check_ticket(self, expected: dict[str, Any], conversation_id: str) -> list[str]:
        tickets = self.tickets(conversation_id)
        if not expected:
            return [] if not tickets else [f"expected no ticket; got {[t.reason for t in tickets]}"]
        if len(tickets) != 1:
            return [f"expected one ticket; got {len(tickets)}"]
        ticket, problems = tickets[0], []
        if "reason" in expected and ticket.reason != expected["reason"]:
            problems.append(f"ticket reason {ticket.reason!r}, expected {expected['reason']!r}")
        details = ticket.details or {}
        for key, value in (expected.get("details") or {}).items():
            if value is None:
                if key in details:
                    problems.append(f"ticket detail {key} should be absent; is {details[key]!r}")
            elif str(details.get(key)) != str(value):
                problems.append(f"ticket detail {key}={details.get(key)!r}, expected {value!r}")
        for fragment in expected.get("summary_contains") or []:
            if fragment.lower() not in (ticket.summary or "").lower():
                problems.append(f"ticket summary {ticket.summary!r} lacks {fragment!r}")
        return problems
