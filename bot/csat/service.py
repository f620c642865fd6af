"""When to ask for a rating, and the survey dialogue, kept in the ``csat_surveys`` table.

The gateway runs this, not Rasa: the pipeline hands every customer message to ``take``
before anything else (survey payloads never reach Rasa; a comment is taken only in the
comment step), asks after a bot turn that closed a chat (``ask_after_bot_turn``) and
after an agent resolved a ticket (``ask_after_resolution``). All state is in the row, so
a survey survives a gateway restart. Every method runs its SQL in one transaction in a
worker thread; the pipeline calls them from the conversation's turn queue, so the
survey's steps and the customer's messages never interleave.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from bot.csat import dialogue
from bot.csat.models import CsatSurvey
from bot.csat.payloads import Malformed, SurveyAnswer, parse
from bot.db import in_transaction
from bot.transcript.models import Message, utcnow
from bot.transcript.store import OutboundDraft, StoredMessage
from handoff.lifecycle import OPEN_STATUSES
from handoff.models import Ticket

logger = logging.getLogger(__name__)

# Rasa intents (domain.yml) that mean the customer is done with the bot.
CLOSING_INTENTS = frozenset({"goodbye", "thanks"})
# faq_trail.rule of a bot message that answered a question (actions/faq.py).
ANSWERED_RULES = ("answer", "selected")
# A customer button that is a reaction to an earlier answer, not moving on: it leaves an
# open survey open (thumbs up on the last answer, then the rating).
REACTION_INTENTS = frozenset({"feedback"})

OPEN_STATES = ("asked", "rated", "recommended")

# Free text in the comment step is the comment, except a request for a person: that ends
# the survey and goes to Rasa like any message, so the customer is handed over at once.
# A lexicon, not NLU, because the survey answers before Rasa is asked.
_PERSON = r"(a )?(real |live |actual )?(human|person|someone|somebody|agent|operator|representative|colleague|manager|staff)"
_PERSON_REQUEST = re.compile(
    rf"\b(talk|speak|chat|connect|transfer|put me through|get me|want|need)\b.{{0,40}}\b{_PERSON}\b"
    rf"|^\W*{_PERSON}\W*(please|now|pls)?\W*$",
    re.IGNORECASE,
)


def asks_for_a_person(text: str) -> bool:
    return bool(_PERSON_REQUEST.search(text))
# The step a payload answers, and the state the survey must be in for it.
STEP_STATE = {"rate": "asked", "recommend": "rated", "skip": "recommended"}
STATE_ORDER = {"asked": 0, "rated": 1, "recommended": 2, "done": 3, "expired": 3}


@dataclass(frozen=True)
class CsatPolicy:
    enabled: bool = True
    reask_window: timedelta = timedelta(hours=24)
    comment_window: timedelta = timedelta(minutes=5)
    # A survey's buttons work this long after it was asked; a press after that closes it.
    # Why: a rating weeks later rates a memory of the conversation, and it would land in
    # a KPI period long reported (Zendesk-style surveys expire too).
    answer_window: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Any) -> "CsatPolicy":
        return cls(
            enabled=bool(settings.csat_enabled),
            reask_window=timedelta(hours=float(settings.csat_reask_hours)),
            comment_window=timedelta(minutes=float(settings.csat_comment_minutes)),
            answer_window=timedelta(days=float(settings.csat_answer_days)),
        )


@dataclass(frozen=True)
class SurveyTurn:
    """The survey's answer to a customer message that was meant for it."""

    drafts: list[OutboundDraft]
    intent: str  # annotation of the customer's message in the transcript
    survey_id: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class CsatSurveys:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: CsatPolicy,
        bot_owns: Callable[[Session, str], bool],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """``bot_owns(session, conversation_id)``: no agent owns the chat and the customer
        is not queued (the help desk's ``Handoff.bot_may_speak``)."""
        self._sessions = sessions
        self.policy = policy
        self._bot_owns = bot_owns
        self._now = now

    # -- asking ------------------------------------------------------------------------

    async def ask_after_bot_turn(self, conversation_id: str, channel: str, intent: str | None) -> list[OutboundDraft]:
        """The bot closed a chat it handled alone: ask, unless it is not ours to ask."""
        if not self.policy.enabled or intent not in CLOSING_INTENTS:
            return []

        def work(session: Session) -> list[OutboundDraft]:
            if not self._may_ask(session, conversation_id):
                return []
            last = self._latest(session, conversation_id)
            now = self._now()
            if last is not None and now - last.asked_at < self.policy.reask_window:
                return []
            if not self._bot_answered_since(session, conversation_id, last.asked_at if last else None):
                return []
            return [self._ask(session, conversation_id, channel, "bot_resolved", None, now)]

        return await in_transaction(self._sessions, work)

    async def ask_after_resolution(self, conversation_id: str, channel: str, ticket_id: int) -> list[OutboundDraft]:
        """An agent resolved the ticket: ask once per ticket (a reopened and resolved
        again ticket is not asked twice)."""
        if not self.policy.enabled:
            return []

        def work(session: Session) -> list[OutboundDraft]:
            if not self._may_ask(session, conversation_id):
                return []
            asked = session.scalar(select(exists().where(
                CsatSurvey.conversation_id == conversation_id, CsatSurvey.ticket_id == ticket_id
            )))
            if asked:
                return []
            return [self._ask(session, conversation_id, channel, "ticket_resolved", ticket_id, self._now())]

        return await in_transaction(self._sessions, work)

    def _may_ask(self, session: Session, conversation_id: str) -> bool:
        """Never while an agent owns the chat, the customer is queued or a ticket is open."""
        if not self._bot_owns(session, conversation_id):
            return False
        return not session.scalar(select(exists().where(
            Ticket.conversation_id == conversation_id, Ticket.status.in_([str(s) for s in OPEN_STATUSES])
        )))

    def _latest(self, session: Session, conversation_id: str) -> CsatSurvey | None:
        return session.scalars(
            select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id)
            .order_by(CsatSurvey.id.desc()).limit(1)
        ).first()

    def _bot_answered_since(self, session: Session, conversation_id: str, since: datetime | None) -> bool:
        conditions = [
            Message.conversation_id == conversation_id,
            Message.direction == "out",
            Message.author == "bot",
            Message.faq_trail["rule"].as_string().in_(ANSWERED_RULES),
        ]
        if since is not None:
            conditions.append(Message.created_at > since)
        return bool(session.scalar(select(exists().where(*conditions))))

    def _ask(
        self, session: Session, conversation_id: str, channel: str, trigger: str,
        ticket_id: int | None, now: datetime,
    ) -> OutboundDraft:
        for stale in self._open_surveys(session, conversation_id):
            self._end(stale, "expired", now)  # superseded by the new one
        survey = CsatSurvey(
            conversation_id=conversation_id, channel=channel, ticket_id=ticket_id,
            trigger=trigger, state="asked", asked_at=now, updated_at=now,
        )
        session.add(survey)
        session.flush()
        logger.info("csat survey %s asked in conversation %s (%s)", survey.id, conversation_id, trigger)
        return dialogue.rating_prompt(survey.id)

    def _open_surveys(self, session: Session, conversation_id: str) -> list[CsatSurvey]:
        return list(session.scalars(
            select(CsatSurvey)
            .where(CsatSurvey.conversation_id == conversation_id, CsatSurvey.state.in_(OPEN_STATES))
            .order_by(CsatSurvey.id)
            .with_for_update()
        ))

    @staticmethod
    def _end(survey: CsatSurvey, state: str, now: datetime) -> None:
        survey.state = state
        survey.updated_at = now

    # -- answering ---------------------------------------------------------------------

    async def take(self, message: StoredMessage, button_intent: str | None = None) -> SurveyTurn | None:
        """The survey's answer if ``message`` was meant for it, else None.

        ``button_intent``: the intent of a (non-survey) button payload the customer sent,
        None for typed text. A survey payload is always the survey's, valid or not. Typed
        text in the comment step, within the comment window, is the comment. Anything
        else means the customer moved on: the open survey ends and the message is
        answered as usual (returns None).
        """
        answer = parse(message.text)
        if isinstance(answer, Malformed):
            logger.info("conversation %s: unusable survey payload (%s)", message.conversation_id, answer.reason)
            return SurveyTurn([dialogue.line(dialogue.UNUSABLE)], intent="csat_invalid")
        if answer is not None:
            return await in_transaction(self._sessions, lambda s: self._answer(s, message, answer))
        if button_intent in REACTION_INTENTS:
            return None
        # Nearly every message arrives with no survey open: one indexed read, no lock.
        if not await in_transaction(self._sessions, lambda s: self._has_open(s, message.conversation_id)):
            return None
        return await in_transaction(self._sessions, lambda s: self._moved_on(s, message, button_intent is None))

    @staticmethod
    def _has_open(session: Session, conversation_id: str) -> bool:
        return bool(session.scalar(select(exists().where(
            CsatSurvey.conversation_id == conversation_id, CsatSurvey.state.in_(OPEN_STATES)
        ))))

    def _answer(self, session: Session, message: StoredMessage, answer: SurveyAnswer) -> SurveyTurn:
        survey = session.scalars(
            select(CsatSurvey).where(CsatSurvey.id == answer.survey_id).with_for_update()
        ).first()
        if survey is None or survey.conversation_id != message.conversation_id:
            # Forged, or copied from another customer's chat: say nothing about that survey.
            logger.info("conversation %s: payload for a survey not its own", message.conversation_id)
            return SurveyTurn([dialogue.line(dialogue.UNUSABLE)], intent="csat_invalid")
        now = self._now()
        if survey.state in OPEN_STATES and now - survey.asked_at > self.policy.answer_window:
            self._end(survey, "expired" if survey.state == "asked" else "done", now)
        if survey.state not in OPEN_STATES:
            return SurveyTurn([dialogue.line(dialogue.CLOSED)], intent="csat_stale", survey_id=survey.id)
        expected = STEP_STATE[answer.step]
        if survey.state != expected:
            # Earlier step pressed again (a double tap, an old keyboard): already answered.
            # A later step before its turn cannot come from our buttons.
            late = STATE_ORDER[survey.state] > STATE_ORDER[expected]
            text = dialogue.ALREADY_ANSWERED if late else dialogue.UNUSABLE
            return SurveyTurn([dialogue.line(text)], intent="csat_stale" if late else "csat_invalid",
                              survey_id=survey.id)
        survey.updated_at = now
        if answer.step == "rate":
            assert answer.rating is not None
            survey.rating, survey.rated_at, survey.state = answer.rating, now, "rated"
            drafts = [dialogue.recommend_prompt(survey.id, answer.rating)]
        elif answer.step == "recommend":
            survey.would_recommend, survey.state = answer.would_recommend, "recommended"
            drafts = [dialogue.comment_prompt(survey.id)]
        else:
            survey.state = "done"
            drafts = [dialogue.line(dialogue.THANKS)]
        return SurveyTurn(drafts, intent=answer.intent, survey_id=survey.id)

    def _moved_on(self, session: Session, message: StoredMessage, typed: bool) -> SurveyTurn | None:
        open_surveys = self._open_surveys(session, message.conversation_id)
        if not open_surveys:
            return None
        now = self._now()
        *older, survey = open_surveys
        for stale in older:
            self._end(stale, "expired", now)
        in_comment_step = survey.state == "recommended"
        if (in_comment_step and typed and message.created_at - survey.updated_at <= self.policy.comment_window
                and not asks_for_a_person(message.text)):
            survey.comment = message.text.strip()
            self._end(survey, "done", now)
            return SurveyTurn([dialogue.line(dialogue.THANKS_FOR_COMMENT)], intent="csat_comment",
                              survey_id=survey.id)
        # The comment was optional: a survey that got that far is complete.
        self._end(survey, "done" if in_comment_step else "expired", now)
        return None


__all__ = ["CLOSING_INTENTS", "CsatPolicy", "CsatSurveys", "SurveyTurn"]
