"""The path of one customer message: persist, then answer in order, then deliver.

Channels adapt their protocol to ``Inbound`` and call ``MessagePipeline.accept``, which
returns once the message is stored (so the channel may acknowledge it) and schedules the
bot turn behind any earlier message of the same conversation.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import redis.exceptions
import sqlalchemy.exc

from bot.channels.base import CustomerChannel
from bot.csat.service import CsatSurveys
from bot.desk import HelpDesk
from bot.long_messages import summary_window
from handoff import Recipient
from bot.coordination.turns import LocalTurns, TurnScheduler
from bot.rasa_client import BotTurn, RasaClient, RasaUnavailable
from bot.rasa_wait import RasaWaitingRoom
from bot.ratelimit import ChatRefused
from bot.sequencing import SerialExecutor
from bot.transcript.models import utcnow
from bot.transcript.store import (
    AlreadyAnswered,
    InboundOutcome,
    InboundResult,
    OutboundDraft,
    StoredMessage,
    TranscriptStore,
)

logger = logging.getLogger(__name__)

# A message stored but left unanswered by a stopped gateway is answered at start-up if it
# is this recent; older ones would surprise the customer more than help them.
RESUME_WINDOW = timedelta(minutes=15)
# With replicas, a message still waiting this long after it was stored has lost its
# worker (a replica died holding the conversation's lease): the sweep wakes it.
STALE_AFTER = timedelta(seconds=20)
# A turn that failed for a passing reason (see TRANSIENT_ERRORS) is tried again while the
# message is this recent; after that it is marked failed and handed to the team.
RETRY_WINDOW = RESUME_WINDOW

# Our own database or Redis unreachable (restarting, disk full, pool exhausted) while a
# turn reads or finishes: nothing of the turn was committed (replies and the message's
# new status are one transaction), so the message stays `received` and is tried again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# Turns kept for a retry after they were computed but not stored (at most this many).
_KEPT_TURNS = 1000

# Lone UTF-16 surrogates (JSON "\ud800") cannot be stored or encoded; they stand for no
# character, so they become U+FFFD and the customer is told.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_NOTICE = (
    "Part of your message could not be read and was replaced with \ufffd; "
    "please send it again if something is missing."
)


def readable_text(text: str) -> tuple[str, bool]:
    """The text with unreadable code points replaced, and whether any were."""
    cleaned = _LONE_SURROGATE.sub("\ufffd", text)
    return cleaned, cleaned != text

BOT_ERROR_HANDOVER = (
    "Sorry, I'm still having trouble answering. I've passed your conversation to our team."
)
# Sent by the gateway itself (never accepted from customers): the bot resumes with context.
HANDED_BACK_PAYLOAD = "/handed_back"

APOLOGY = (
    "Sorry, I'm having trouble answering right now. Your message is saved; "
    "please try again in a moment."
)
# No Rasa server reachable (one is restarting): the message waits and is answered when
# one is back (bot/rasa_wait.py), so the customer need not write again.
SAVED_NOTICE = "Your message is saved. We will answer shortly."

# Button payloads customers may send as "/intent{...}". Anything else starting with "/"
# is treated as plain text, so a customer cannot trigger internal intents by typing them.
CUSTOMER_PAYLOAD_INTENTS = frozenset(
    {"faq_select", "feedback", "affirm", "deny", "greet", "request_human"}
)
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<rest>\{.*\})?$", re.DOTALL)


class TransientTurnFailure(Exception):
    """A turn failed for a passing reason (Rasa unreachable or timed out): try again."""


# Asked before a message is stored: None admits it, a text refuses it (the customer's notice).
Admission = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class Inbound:
    conversation_id: str
    channel: str
    text: str
    client_message_id: str | None = None


def customer_text_for_rasa(text: str) -> str:
    match = _PAYLOAD.match(text.strip())
    if match and match.group("intent") not in CUSTOMER_PAYLOAD_INTENTS:
        return text.strip().lstrip("/")
    return text


def payload_of(text: str) -> tuple[str, dict[str, Any]] | None:
    """("intent", entities) when the text is a button payload, else None."""
    match = _PAYLOAD.match(text.strip())
    if not match:
        return None
    try:
        entities = json.loads(match.group("rest") or "{}")
    except ValueError:
        return None
    return (match.group("intent"), entities) if isinstance(entities, dict) else None


def customer_button_intent(text: str) -> str | None:
    """The intent of a button payload customers may send, None for anything typed."""
    payload = payload_of(text)
    return payload[0] if payload and payload[0] in CUSTOMER_PAYLOAD_INTENTS else None


def is_transient(exc: RasaUnavailable) -> bool:
    """Rasa could not be reached or did not answer in time (restarting, overloaded):
    worth trying again. An answer with an error status or a malformed body is the bot's
    own failure and counts toward the `bot_error` handover."""
    return exc.unreachable or isinstance(exc.__cause__, httpx.TimeoutException)


def _age(message: StoredMessage) -> timedelta:
    created = message.created_at
    if created.tzinfo is None:  # SQLite gives back naive UTC
        created = created.replace(tzinfo=timezone.utc)
    return utcnow() - created


def drafts_from_turn(turn: BotTurn) -> list[OutboundDraft]:
    drafts: list[OutboundDraft] = []
    for message in turn.messages:
        text = message.get("text") or ""
        raw_buttons = message.get("buttons") or message.get("quick_replies") or []
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in raw_buttons
            if isinstance(b, dict)
        ]
        helpline: dict[str, Any] = message.get("helpline") or {}
        if not text and not buttons:
            continue  # images/custom payloads are not part of the demo's channels yet
        drafts.append(
            OutboundDraft(text=text, buttons=buttons or None, faq_trail=helpline.get("faq_trail"))
        )
    return drafts


class MessagePipeline:
    def __init__(
        self,
        store: TranscriptStore,
        rasa: RasaClient,
        channels: dict[str, CustomerChannel],
        desk: HelpDesk | None = None,
        csat: CsatSurveys | None = None,
        turns: TurnScheduler | None = None,
    ) -> None:
        self._store = store
        self._rasa = rasa
        self._channels = channels
        self._desk = desk
        self._csat = csat
        self._intake = SerialExecutor()  # persisting, per conversation, in arrival order
        # Bot turns, per conversation, in stored order: in this process, or across
        # replicas under a lease in Redis (bot/coordination/turns.py).
        self._turns: TurnScheduler = turns or LocalTurns()
        self._turns.bind(self._answer_if_known, self._waiting_in)
        self._waiting = RasaWaitingRoom(rasa, self._turns.submit, self._answer_if_still_waiting)
        # Rasa's answer to a message whose turn then failed to be stored (our database
        # went away): the retry stores it instead of asking Rasa a second time.
        self._computed: dict[int, BotTurn] = {}
        self._swept: set[int] = set()  # one gateway: swept messages queued, not yet run

    def register_channel(self, channel: CustomerChannel) -> None:
        self._channels[channel.name] = channel

    async def accept(self, inbound: Inbound, admit: Admission | None = None) -> InboundResult:
        """Store the message and schedule its answer; returns once it is stored.

        ``admit`` (a rate limit) runs in the conversation's intake queue, so messages keep
        their arrival order however long it takes; when it returns a notice the message
        is neither stored nor answered and ``ChatRefused`` carries the notice."""
        return await self._intake.submit(inbound.conversation_id, lambda: self._intake_job(inbound, admit))

    async def _intake_job(self, inbound: Inbound, admit: Admission | None = None) -> InboundResult:
        if admit is not None:
            notice = await admit()
            if notice is not None:
                raise ChatRefused(notice)
        await self._store.ensure_conversation(inbound.conversation_id, inbound.channel)
        text, _ = readable_text(inbound.text)  # channels tell the customer; this only stores safely
        result = await self._store.record_inbound(
            inbound.conversation_id, inbound.channel, text, inbound.client_message_id
        )
        if not result.duplicate:
            # Scheduled from inside the intake job, so turns queue in stored order.
            self._turns.message_stored(result.message)
        return result

    async def _waiting_in(self, conversation_id: str) -> list[StoredMessage]:
        return await self._store.unanswered_in(conversation_id)

    async def _answer_if_known(self, message: StoredMessage) -> None:
        if message.channel not in self._channels:
            logger.warning("message %s: channel %s is not running here", message.id, message.channel)
            return
        await self._answer(message)

    async def _answer_if_still_waiting(self, message: StoredMessage) -> None:
        """A message parked while Rasa was away. With replicas another replica may have
        parked and answered it too: ask Rasa only if it is still waiting."""
        if self._turns.shared:
            fresh = await self._store.messages([message.id])
            if not fresh or fresh[0].status != "received":
                return
        await self._answer(message)

    async def resume_unanswered(self, started_at: datetime) -> int:
        """Answer messages a previous gateway process stored but did not answer.

        Only messages stored before this process started count: later ones are this
        process's own, already queued.
        """
        cutoff = started_at - RESUME_WINDOW
        expired = await self._store.expire_unanswered(cutoff)
        # With replicas every waiting message counts, however recent: its conversation's
        # lease decides who answers it, so one another replica is answering is left alone.
        until = utcnow() if self._turns.shared else started_at
        pending = [
            m for m in await self._store.unanswered(cutoff, until) if m.channel in self._channels
        ]
        self._schedule_waiting(pending)
        if pending or expired:
            logger.info("resuming %d unanswered messages (%d too old)", len(pending), expired)
        return len(pending)

    async def sweep_unanswered(self) -> int:
        """Wake messages still `received` longer than a live turn would leave them: with
        replicas, their worker's replica died; with one gateway, their turn stopped on an
        error no retry caught. Messages waiting in the Rasa line are left to it."""
        now = utcnow()
        stale = [
            m for m in await self._store.unanswered(now - RESUME_WINDOW, now - STALE_AFTER)
            if m.channel in self._channels
        ]
        if self._turns.shared:
            self._schedule_waiting(stale)
        else:
            stale = [m for m in stale if not self._waiting.holds(m) and m.id not in self._swept]
            for message in stale:
                self._swept.add(message.id)
                self._turns.submit(message.conversation_id, lambda m=message: self._answer_swept(m))
        if stale:
            logger.info("sweep: %d messages waited past %s; their conversations woken",
                        len(stale), STALE_AFTER)
        return len(stale)

    async def _answer_swept(self, message: StoredMessage) -> None:
        """Queued behind the conversation's other turns, it may have been answered since."""
        self._swept.discard(message.id)
        fresh = await self._store.messages([message.id])
        if fresh and fresh[0].status == "received":
            await self._answer_if_known(fresh[0])

    def _schedule_waiting(self, messages: list[StoredMessage]) -> None:
        if self._turns.shared:
            # One wake per conversation: its worker reads the conversation's backlog.
            firsts = {m.conversation_id: m for m in reversed(messages)}
            for message in firsts.values():
                self._turns.message_stored(message)
        else:
            for message in messages:
                self._turns.message_stored(message)

    async def replies_to(self, message_id: int) -> list[StoredMessage]:
        return await self._store.replies_to(message_id)

    async def _note_feedback(self, message: StoredMessage) -> None:
        payload = payload_of(message.text)
        if payload and payload[0] == "feedback" and isinstance(payload[1].get("faq_id"), str):
            helpful = str(payload[1].get("helpful", "")).lower() == "yes"
            await self._store.record_feedback(message.conversation_id, payload[1]["faq_id"], helpful)

    async def _answer(self, message: StoredMessage) -> None:
        started = time.perf_counter()
        channel = self._channels[message.channel]
        if self._waiting.should_wait(message):
            await self._wait_for_rasa(message, channel)  # behind the earlier waiting ones
            return
        try:
            await self._take_turn(message, channel, started)
        except TransientTurnFailure as exc:
            await self._retry_later(message, channel, started, str(exc))
        except TRANSIENT_ERRORS as exc:
            # Nothing of the turn was committed: the message is still `received`.
            logger.warning("turn for message %s interrupted: %s", message.id, type(exc).__name__)
            await self._retry_later(message, channel, started, f"interrupted: {type(exc).__name__}")

    async def _retry_later(
        self, message: StoredMessage, channel: CustomerChannel, started: float, reason: str
    ) -> None:
        """The message stays `received` and is tried again, in stored order, until it is
        older than RETRY_WINDOW; then a person follows it up."""
        if _age(message) <= RETRY_WINDOW:
            await self._wait_for_rasa(message, channel)
            return
        self._computed.pop(message.id, None)
        try:
            await self._give_up(message, channel, started, reason)
        except TRANSIENT_ERRORS as exc:  # still down: keep it for the next try
            logger.warning("could not give up on message %s: %s", message.id, type(exc).__name__)
            await self._wait_for_rasa(message, channel)

    async def _give_up(
        self, message: StoredMessage, channel: CustomerChannel, started: float, reason: str
    ) -> None:
        logger.warning("message %s not answered within %s (%s): handed over", message.id,
                       RETRY_WINDOW, reason)
        drafts = [OutboundDraft(text=APOLOGY, author="system")]
        if self._desk is not None:
            drafts = [OutboundDraft(text=BOT_ERROR_HANDOVER, author="system")]
            drafts += await self._desk.escalate(
                message.conversation_id, channel.name, "bot_error",
                summary=message.text, customer_text=message.text,
            )
        await self._reply(message, channel, drafts, started, status="failed",
                          error=f"gave up retrying: {reason}")

    async def _take_turn(self, message: StoredMessage, channel: CustomerChannel, started: float) -> None:
        if self._csat is not None:
            # Before routing and Rasa: survey answers are the gateway's, never Rasa's, and
            # a customer who moves on ends the open survey here.
            survey = await self._csat.take(message, button_intent=customer_button_intent(message.text))
            if survey is not None:
                await self._reply(message, channel, survey.drafts, started, status="answered",
                                  intent=survey.intent)
                return
        if self._desk is not None:
            # Ownership decides who hears the customer: exactly one of bot, queue, agent.
            route = await self._desk.route_customer_message(message.conversation_id)
            if route.recipient is Recipient.QUEUE:
                drafts = await self._desk.reply_while_queued(message, route)
                await self._reply(message, channel, drafts, started, status="queued")
                return
            if route.recipient is Recipient.AGENT:
                await self._store.complete_inbound(message.id, status="forwarded")
                await self._desk.forward_to_agent(message, route)
                return
        turn = self._computed.get(message.id)
        if turn is None:
            try:
                turn = await self._ask_rasa(message, channel)
            except RasaUnavailable as exc:
                logger.warning("bot turn failed for message %s: %s", message.id, exc)
                if is_transient(exc):
                    raise TransientTurnFailure(str(exc)) from exc
                await self._bot_failed(message, channel, started, exc)
                return
            while len(self._computed) >= _KEPT_TURNS:
                self._computed.pop(next(iter(self._computed)))
            self._computed[message.id] = turn
        drafts = drafts_from_turn(turn) + await self._requests_in(turn, message, channel.name)
        drafts += await self._survey_after_turn(message, channel.name, turn)
        await self._reply(
            message, channel, drafts, started,
            status="answered", intent=turn.intent, confidence=turn.confidence,
        )
        self._computed.pop(message.id, None)

    async def _ask_rasa(self, message: StoredMessage, channel: CustomerChannel) -> BotTurn:
        await self._note_feedback(message)
        return await self._rasa.send(
            message.conversation_id,
            # Long messages are scored on a summary window; the whole text stays stored.
            customer_text_for_rasa(summary_window(message.text)),
            message_id=str(message.id),
            channel=channel.name,
        )

    async def _bot_failed(
        self, message: StoredMessage, channel: CustomerChannel, started: float, exc: RasaUnavailable
    ) -> None:
        """Rasa answered with an error: the bot itself is broken for this customer."""
        drafts = [OutboundDraft(text=APOLOGY, author="system")]
        if self._desk is not None and await self._failed_before(message):
            # The bot keeps failing this customer: a person takes over.
            drafts = [OutboundDraft(text=BOT_ERROR_HANDOVER, author="system")]
            drafts += await self._desk.escalate(
                message.conversation_id, channel.name, "bot_error",
                summary=message.text, customer_text=message.text,
            )
        await self._reply(message, channel, drafts, started, status="failed", error=str(exc))

    async def _wait_for_rasa(self, message: StoredMessage, channel: CustomerChannel) -> None:
        """The message stays `received` and is answered when Rasa is back (or, for a
        timeout or our own database's or Redis's hiccup, at the next try)."""
        if not self._waiting.park(message):
            return
        try:
            stored = await self._store.record_outbound(
                message.conversation_id, channel.name, [OutboundDraft(text=SAVED_NOTICE, author="system")]
            )
        except TRANSIENT_ERRORS:  # the database is away: the answer comes anyway
            logger.warning("could not store the saved notice for message %s", message.id)
            return
        try:
            await channel.deliver(message.conversation_id, stored)
        except Exception:
            logger.exception("delivery failed for conversation %s", message.conversation_id)

    async def _failed_before(self, message: StoredMessage) -> bool:
        earlier = [m for m in await self._store.history(message.conversation_id, limit=6)
                   if m.direction == "in" and m.id < message.id]
        return bool(earlier) and earlier[-1].status == "failed"

    async def _requests_in(
        self, turn: BotTurn, message: StoredMessage, channel: str
    ) -> list[OutboundDraft]:
        """Carry out what actions asked the gateway to do (escalate, look up a ticket)."""
        if self._desk is None:
            return []
        drafts: list[OutboundDraft] = []
        for bot_message in turn.messages:
            requests: dict[str, Any] = bot_message.get("helpline") or {}
            escalation = requests.get("escalate")
            if isinstance(escalation, dict):
                drafts += await self._desk.escalate(
                    message.conversation_id, channel, str(escalation.get("reason") or "customer_request"),
                    summary=str(escalation.get("summary") or ""),
                    details=escalation.get("details") if isinstance(escalation.get("details"), dict) else None,
                    customer_text=message.text,
                )
            status_request = requests.get("ticket_status")
            if isinstance(status_request, dict):
                text = await self._desk.ticket_status_text(message.conversation_id, status_request.get("number"))
                drafts.append(OutboundDraft(text=text, author="system"))
        return drafts

    async def _survey_after_turn(self, message: StoredMessage, channel: str, turn: BotTurn) -> list[OutboundDraft]:
        """The bot closed a chat it handled alone (goodbye, thanks): ask for a rating.
        Checked after the turn's requests ran, so an escalation in it prevents asking."""
        if self._csat is None:
            return []
        try:
            return await self._csat.ask_after_bot_turn(message.conversation_id, channel, turn.intent)
        except Exception:  # the bot's own answer must still go out
            logger.exception("could not ask for a rating in conversation %s", message.conversation_id)
            return []

    def survey_after_resolution(self, conversation_id: str, channel: str, ticket_id: int) -> None:
        """An agent resolved the ticket (its note already delivered): ask for a rating,
        in turn with the customer's messages."""
        if self._csat is None or channel not in self._channels:
            return  # a channel switched off since: nobody could see the prompt
        self._turns.submit(
            conversation_id, lambda: self._ask_after_resolution(conversation_id, channel, ticket_id)
        )

    async def _ask_after_resolution(self, conversation_id: str, channel_name: str, ticket_id: int) -> None:
        assert self._csat is not None
        try:
            drafts = await self._csat.ask_after_resolution(conversation_id, channel_name, ticket_id)
            if not drafts:
                return
            stored = await self._store.record_outbound(conversation_id, channel_name, drafts)
            await self._channels[channel_name].deliver(conversation_id, stored)
        except Exception:
            logger.exception("could not ask for a rating in conversation %s", conversation_id)

    def resume_bot(self, conversation_id: str, channel: str) -> None:
        """After an agent hands back: tell Rasa, in turn with the customer's messages."""
        self._turns.submit(conversation_id, lambda: self._bot_resumes(conversation_id, channel))

    async def _bot_resumes(self, conversation_id: str, channel_name: str) -> None:
        channel = self._channels[channel_name]
        try:
            turn = await self._rasa.send(
                conversation_id, HANDED_BACK_PAYLOAD, message_id=f"handback-{time.time_ns()}",
                channel=channel_name,
            )
        except RasaUnavailable as exc:
            logger.warning("could not tell Rasa about the hand-back: %s", exc)
            return
        stored = await self._store.record_outbound(conversation_id, channel_name, drafts_from_turn(turn))
        await channel.deliver(conversation_id, stored)

    async def _reply(
        self,
        message: StoredMessage,
        channel: CustomerChannel,
        drafts: list[OutboundDraft],
        started: float,
        *,
        status: str,
        intent: str | None = None,
        confidence: float | None = None,
        error: str | None = None,
    ) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        try:
            stored = await self._store.record_outbound(
                message.conversation_id, channel.name, drafts, reply_to_id=message.id,
                latency_ms=latency_ms, outcome=InboundOutcome(status, intent, confidence, error),
            )
        except AlreadyAnswered:
            # Another replica's turn answered it first (this one outlived its lease):
            # nothing of this turn was stored, and nothing is sent.
            logger.warning("message %s was answered elsewhere; this turn's reply dropped", message.id)
            return
        try:
            await channel.deliver(message.conversation_id, stored)
        except Exception:  # a gone customer must not break the conversation's queue
            logger.exception("delivery failed for conversation %s", message.conversation_id)

    async def shutdown(self) -> None:
        await self._waiting.close()
        await self._intake.drain_all()
        await self._turns.drain_all()
