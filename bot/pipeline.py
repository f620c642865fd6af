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
from datetime import datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import Any

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
        """Replicas: wake conversations whose messages wait longer than a live worker
        would leave them (their worker's replica died). A no-op for one gateway."""
        if not self._turns.shared:
            return 0
        now = utcnow()
        stale = [
            m for m in await self._store.unanswered(now - RESUME_WINDOW, now - STALE_AFTER)
            if m.channel in self._channels
        ]
        self._schedule_waiting(stale)
        if stale:
            logger.info("sweep: %d messages waited past %s; their conversations woken",
                        len(stale), STALE_AFTER)
        return len(stale)

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
        await self._note_feedback(message)
        try:
            turn = await self._rasa.send(
                message.conversation_id,
                # Long messages are scored on a summary window; the whole text stays stored.
                customer_text_for_rasa(summary_window(message.text)),
                message_id=str(message.id),
                channel=channel.name,
            )
        except RasaUnavailable as exc:
            logger.warning("bot turn failed for message %s: %s", message.id, exc)
            if exc.unreachable:
                await self._wait_for_rasa(message, channel)
                return
            drafts = [OutboundDraft(text=APOLOGY, author="system")]
            if self._desk is not None and await self._failed_before(message):
                # The bot keeps failing this customer: a person takes over.
                drafts = [OutboundDraft(text=BOT_ERROR_HANDOVER, author="system")]
                drafts += await self._desk.escalate(
                    message.conversation_id, channel.name, "bot_error",
                    summary=message.text, customer_text=message.text,
                )
            await self._reply(message, channel, drafts, started, status="failed", error=str(exc))
            return
        drafts = drafts_from_turn(turn) + await self._requests_in(turn, message, channel.name)
        drafts += await self._survey_after_turn(message, channel.name, turn)
        await self._reply(
            message, channel, drafts, started,
            status="answered", intent=turn.intent, confidence=turn.confidence,
        )

    async def _wait_for_rasa(self, message: StoredMessage, channel: CustomerChannel) -> None:
        """The message stays `received` and is answered when Rasa is back."""
        if not self._waiting.park(message):
            return
        stored = await self._store.record_outbound(
            message.conversation_id, channel.name, [OutboundDraft(text=SAVED_NOTICE, author="system")]
        )
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
