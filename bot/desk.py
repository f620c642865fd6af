"""The help desk as the gateway runs it: handoff's domain plus transcript and channels.

``handoff`` decides (ownership, tickets, queue, SLA) on a Session; this module runs those
decisions in worker threads, turns them into what customers are told on their own
channel, and tells agents' consoles what changed. It is the one place where ownership
changes are carried out, so the bot and an agent can never both speak.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol, TypeVar

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import CustomerChannel
from bot.db import in_transaction
from bot.sequencing import SerialExecutor
from bot.transcript.store import OutboundDraft, StoredMessage, TranscriptStore
from handoff import Handoff, HandoffPolicy, Route, Ticket, TicketNotFound
from handoff.lifecycle import TicketStatus
from handoff.sentiment import score as sentiment_score

logger = logging.getLogger(__name__)
T = TypeVar("T")

LEAVE_QUEUE = re.compile(
    r"^\s*(never\s*mind|nevermind|cancel|forget it|leave (the )?queue|stop waiting|no longer needed)\b",
    re.IGNORECASE,
)
AGENT_HOLDS = (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER)


class ConsoleEvents(Protocol):
    """How the desk tells agents' consoles that something changed."""

    async def queue_changed(self) -> None: ...

    async def ticket_changed(self, ticket_id: int) -> None: ...

    async def ticket_message(self, ticket_id: int, message: StoredMessage) -> None: ...


@dataclass(frozen=True)
class TicketSummary:
    id: int
    number: str
    conversation_id: str
    channel: str
    status: str
    reason: str
    category: str
    priority: int
    assignee_id: int | None
    summary: str
    details: dict[str, Any]
    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    sla: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("created_at", "first_response_due", "resolution_due"):
            data[key] = data[key].isoformat()
        return data


def wait_text(wait: timedelta | None) -> str:
    if wait is None:
        return ""
    minutes = max(1, round(wait.total_seconds() / 60))
    return f" The expected wait is about {minutes} minute{'s' if minutes != 1 else ''}."


def load_handoff_policy(settings: Any) -> HandoffPolicy:
    """The handoff policy from HELPLINE_HANDOFF_POLICY (a YAML file), or the defaults."""
    path = getattr(settings, "handoff_policy", None)
    if not path:
        return HandoffPolicy()
    with open(settings.path(path)) as handle:
        return HandoffPolicy.from_dict(yaml.safe_load(handle) or {})


async def _anonymous_agent(agent_id: int) -> str:
    return "An agent"


class HelpDesk:
    def __init__(
        self,
        handoff: Handoff,
        sessions: sessionmaker[Session],
        store: TranscriptStore,
        channels: dict[str, CustomerChannel],
        console: ConsoleEvents,
        agent_names: Callable[[int], Awaitable[str]] | None = None,
        deliveries: SerialExecutor | None = None,
    ) -> None:
        self.handoff = handoff
        self._sessions = sessions
        self._store = store
        self._channels = channels
        self._console = console
        # The display name customers are told (bot/agent_names.py reads it from the users
        # table, so it does not depend on which replica the agent's console is on).
        self._agent_names = agent_names or _anonymous_agent
        self._notified_positions: dict[int, int] = {}
        # Messages to one conversation leave in the order they were stored, whether or not
        # their sender waits for the delivery (an agent's reply does not, see agent_message).
        # With replicas the queue also holds the conversation's delivery lease in Redis
        # (bot/coordination/turns.py LeasedExecutor), so replicas never interleave.
        self._deliveries = deliveries or SerialExecutor()
        # Set by the composition root: tells the bot it owns the conversation again.
        self.on_hand_back: Callable[[str, str], None] = lambda conversation_id, channel: None
        # Set by the composition root: a resolved ticket's customer is asked for a rating.
        self.on_resolved: Callable[[str, str, int], None] = lambda conversation_id, channel, ticket_id: None

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run handoff work in one transaction, off the event loop."""

        return await in_transaction(self._sessions, work)

    def summary(self, session: Session, ticket: Ticket) -> TicketSummary:
        sla = self.handoff.sla_state(ticket)
        return TicketSummary(
            id=ticket.id, number=ticket.number, conversation_id=ticket.conversation_id,
            channel=ticket.channel, status=ticket.status, reason=ticket.reason,
            category=ticket.category, priority=ticket.priority, assignee_id=ticket.assignee_id,
            summary=ticket.summary or ticket.subject or "", details=dict(ticket.details or {}),
            created_at=ticket.created_at, first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            sla={"first_response": sla.first_response.level.value, "resolution": sla.resolution.level.value,
                 "worst": sla.worst.value},
        )

    def _local(self, moment: datetime, conversation_id: str, channel: str) -> str:
        """A time promised to a customer, with its zone's name: their own zone when their page
        reported it (the web chat does, bot/channels/zones.py), else the business's (the
        handoff policy's opening-hours zone), e.g. "Sunday 02:06 (Europe/Berlin)"."""
        zone_of = getattr(self._channels.get(channel), "customer_zone", None)
        zone = (zone_of(conversation_id) if callable(zone_of) else None) or self.handoff.policy.opening_hours.zone
        return f"{moment.astimezone(zone):%A %H:%M} ({zone.key})"

    # -- customer side -----------------------------------------------------------------

    async def route_customer_message(self, conversation_id: str) -> Route:
        return await self.run(lambda s: self.handoff.record_customer_message(s, conversation_id))

    async def escalate(
        self,
        conversation_id: str,
        channel: str,
        reason: str,
        *,
        summary: str = "",
        details: dict[str, Any] | None = None,
        customer_text: str = "",
    ) -> list[OutboundDraft]:
        """Open (or reuse) the ticket and say what happens next."""
        sentiment = sentiment_score(customer_text) if customer_text else None

        def work(session: Session) -> tuple[TicketSummary, str]:
            ticket = self.handoff.escalate(
                session, conversation_id, channel, reason, summary=summary[:500],
                details={k: str(v)[:300] for k, v in (details or {}).items()}, sentiment=sentiment,
            )
            return self.summary(session, ticket), self._waiting_text(session, ticket.id, conversation_id, channel)

        ticket, text = await self.run(work)
        await self._console.queue_changed()
        return [OutboundDraft(text=f"Your ticket number is {ticket.number}. {text}", author="system")]

    def _waiting_text(self, session: Session, ticket_id: int, conversation_id: str, channel: str) -> str:
        info = self.handoff.waiting_info(session, ticket_id)
        if info.position is not None:
            self._notified_positions[ticket_id] = info.position
        if not info.open_now:
            return (
                "Our team is offline right now. Your ticket stays open and we'll answer "
                f"here from {self._local(info.next_opening, conversation_id, channel)}."
            )
        if info.agents_online == 0:
            return (
                "No one from our team is available at the moment. Your ticket stays open and "
                f"we'll answer here, at the latest by {self._local(info.first_response_due, conversation_id, channel)}."
            )
        place = f"You're number {info.position} in the queue." if info.position else ""
        return f"{place}{wait_text(info.expected_wait)} Type \"never mind\" to leave the queue."

    async def reply_while_queued(self, message: StoredMessage, route: Route) -> list[OutboundDraft]:
        """The customer writes while waiting: leave the queue, or hear where they stand."""
        assert route.ticket_id is not None
        if LEAVE_QUEUE.match(message.text):
            ticket = await self.run(lambda s: self.handoff.cancel_by_customer(s, message.conversation_id))
            await self._console.queue_changed()
            await self.notify_queue_positions()
            number = ticket.number if ticket else "your ticket"
            return [OutboundDraft(
                text=f"Okay, you've left the queue and {number} is closed. I'm here if you need anything else.",
                author="system",
            )]
        text = await self.run(lambda s: self._waiting_text(  # type: ignore[arg-type]
            s, route.ticket_id, message.conversation_id, message.channel))
        await self._console.ticket_message(route.ticket_id, message)
        return [OutboundDraft(text=f"Thanks, your message is saved for our team. {text}", author="system")]

    async def forward_to_agent(self, message: StoredMessage, route: Route) -> None:
        assert route.ticket_id is not None
        await self._console.ticket_message(route.ticket_id, message)

    async def ticket_status_text(self, conversation_id: str, number: str | None) -> str:
        if not number:
            tickets = await self.run(lambda s: [t.number for t in self.handoff.tickets_of(s, conversation_id)])
            if not tickets:
                return "I can't find a ticket in this conversation. Your ticket number looks like HL-1001."
            number = tickets[0]

        def work(session: Session) -> str:
            view = self.handoff.ticket_status(session, number, conversation_id)
            status = view.status.replace("_", " ")
            text = f"Ticket {view.number} is {status}."
            if view.position is not None:
                text += f" You're number {view.position} in the queue.{wait_text(view.expected_wait)}"
            if view.resolution_note:
                text += f" Resolution: {view.resolution_note}"
            return text

        try:
            return await self.run(work)
        except TicketNotFound:
            return f"I can't find ticket {number} in this conversation. Please check the number."

    # -- agent side --------------------------------------------------------------------

    async def tell_customer(self, conversation_id: str, channel: str, drafts: list[OutboundDraft]) -> None:
        """Store, then deliver, messages to a customer outside a bot turn; returns when the
        channel has taken them or given up (then they are stored as "undelivered")."""
        stored = await self._store.record_outbound(conversation_id, channel, drafts)
        await self._deliver_in_order(conversation_id, channel, stored)

    def _deliver_in_order(
        self,
        conversation_id: str,
        channel: str,
        stored: list[StoredMessage],
        announce: Callable[[StoredMessage], Awaitable[Any]] | None = None,
    ) -> asyncio.Future[None]:
        """Queue the delivery behind the conversation's earlier ones. Never fails: a failed
        delivery is logged and shows in the messages' status. ``announce`` is told of each
        message before it is sent and again if delivery changed its status, all inside the
        queue, so what it tells arrives in order."""
        return self._deliveries.submit(
            conversation_id, lambda: self._deliver(conversation_id, channel, stored, announce)
        )

    async def _deliver(
        self,
        conversation_id: str,
        channel: str,
        stored: list[StoredMessage],
        announce: Callable[[StoredMessage], Awaitable[Any]] | None,
    ) -> None:
        ids = [message.id for message in stored]
        if announce is not None:
            await self._announce(announce, stored)
        try:
            if channel not in self._channels:
                # E.g. Telegram switched off while its chats still had tickets: the message
                # is stored (the transcript shows it) but nobody can be reached.
                logger.warning("channel %s is not running; message to conversation %s stored only",
                               channel, conversation_id)
                await self._store.mark_undelivered(ids, f"the {channel} channel is not running")
            else:
                await self._channels[channel].deliver(conversation_id, stored)
        except Exception:
            logger.exception("delivery to conversation %s failed", conversation_id)
        if announce is None:
            return  # nobody shows these messages live: no need to re-read their status
        try:
            after = await self._store.messages(ids)
        except Exception:
            logger.exception("could not re-read %d messages of conversation %s", len(ids), conversation_id)
            return
        before = {message.id: message.status for message in stored}
        await self._announce(announce, [m for m in after if m.status != before.get(m.id)])

    @staticmethod
    async def _announce(announce: Callable[[StoredMessage], Awaitable[Any]], messages: list[StoredMessage]) -> None:
        for message in messages:
            try:
                await announce(message)
            except Exception:  # the consoles missing one event must not stop the delivery
                logger.exception("could not announce message %s to the consoles", message.id)

    async def drain_deliveries(self) -> None:
        """Wait until every queued message has been handed to its channel (shutdown)."""
        await self._deliveries.drain_all()

    async def after_ticket_change(self, ticket: TicketSummary) -> None:
        await self._console.ticket_changed(ticket.id)
        await self._console.queue_changed()

    async def notify_queue_positions(self) -> None:
        """Tell waiting customers their new place when the queue moved."""

        def work(session: Session) -> list[tuple[str, str, str]]:
            notices = []
            for entry in self.handoff.queue(session):
                position, wait = self.handoff.queue_position(session, entry.ticket_id)
                if self._notified_positions.get(entry.ticket_id) == position:
                    continue
                self._notified_positions[entry.ticket_id] = position
                notices.append((entry.conversation_id, entry.channel,
                                f"Update: you're now number {position} in the queue.{wait_text(wait)}"))
            return notices

        for conversation_id, channel, text in await self.run(work):
            await self.tell_customer(conversation_id, channel, [OutboundDraft(text=text, author="system")])

    async def claim(self, ticket_id: int, agent_id: int) -> TicketSummary:
        ticket = await self.run(lambda s: self.summary(s, self.handoff.claim(s, ticket_id, agent_id)))
        self._notified_positions.pop(ticket_id, None)
        name = await self._agent_names(agent_id)
        await self.tell_customer(ticket.conversation_id, ticket.channel, [OutboundDraft(
            text=f"{name} from our support team has joined the chat.", author="system")])
        await self.after_ticket_change(ticket)
        await self.notify_queue_positions()
        return ticket

    async def agent_message(self, ticket_id: int, agent_id: int, text: str) -> StoredMessage:
        def work(session: Session) -> TicketSummary:
            ticket = self.handoff.get_ticket(session, ticket_id)
            self.handoff.record_agent_reply(session, ticket.conversation_id, agent_id)
            return self.summary(session, ticket)

        ticket = await self.run(work)
        (stored,) = await self._store.record_outbound(
            ticket.conversation_id, ticket.channel, [OutboundDraft(text=text, author="agent")]
        )
        # The reply is stored, so the agent gets it back at once; delivery (seconds on
        # Telegram under flood control, up to a minute while it reconnects) goes on behind,
        # and the consoles watching the ticket hear of the reply, then of a failed delivery.
        self._deliver_in_order(
            ticket.conversation_id, ticket.channel, [stored],
            lambda message: self._console.ticket_message(ticket_id, message),
        )
        return stored

    async def finish(self, ticket_id: int, agent_id: int, note: str, *, resolve: bool, category: str | None = None) -> TicketSummary:
        def work(session: Session) -> TicketSummary:
            if resolve:
                ticket = self.handoff.resolve(session, ticket_id, agent_id, note, category)
            else:
                ticket = self.handoff.hand_back(session, ticket_id, agent_id, note)
            return self.summary(session, ticket)

        ticket = await self.run(work)
        text = (
            f"Your ticket {ticket.number} has been resolved: {note}" if resolve and note
            else f"Your ticket {ticket.number} has been resolved." if resolve
            else "You're back with the Brightcart assistant."
        )
        await self.tell_customer(ticket.conversation_id, ticket.channel, [OutboundDraft(text=text, author="system")])
        if resolve:
            # After the note reached the customer: the rating prompt comes second.
            self.on_resolved(ticket.conversation_id, ticket.channel, ticket.id)
        await self.after_ticket_change(ticket)
        return ticket

    async def transfer(
        self, ticket_id: int, from_agent: int, to_agent: int, *, overseer: bool = False
    ) -> TicketSummary:
        """``overseer`` (a supervisor or admin, docs/access.md): move a ticket another agent
        holds; the transfer is made from its current holder, read in the same transaction."""

        def work(session: Session) -> TicketSummary:
            holder = from_agent
            if overseer:
                current = self.handoff.get_ticket(session, ticket_id).assignee_id
                holder = current if current is not None else from_agent
            return self.summary(session, self.handoff.transfer(session, ticket_id, holder, to_agent))

        ticket = await self.run(work)
        await self.tell_customer(ticket.conversation_id, ticket.channel, [OutboundDraft(
            text=f"You're now chatting with {await self._agent_names(to_agent)}.", author="system")])
        await self.after_ticket_change(ticket)
        return ticket

    async def release_agent(self, agent_id: int, *, force: bool = False) -> list[TicketSummary]:
        """After a disconnected agent's grace period: their chats go back to the queue."""

        def work(session: Session) -> list[TicketSummary]:
            return [self.summary(session, t) for t in self.handoff.release_disconnected(session, agent_id, force=force)]

        released = await self.run(work)
        await self._announce_release(released)
        return released

    async def _announce_release(self, released: list[TicketSummary]) -> None:
        for ticket in released:
            text = await self.run(lambda s, t=ticket: self._waiting_text(s, t.id, t.conversation_id, t.channel))
            await self.tell_customer(ticket.conversation_id, ticket.channel, [OutboundDraft(
                text=f"Sorry, your agent was disconnected, so you're back in the queue. {text}",
                author="system")])
            await self.after_ticket_change(ticket)

    async def start(self, *, alone: bool = True) -> None:
        """At gateway start nobody's console is connected yet: everyone is offline, and
        the grace period of agents who do not come back starts now. A replica starting
        beside others (``alone=False``) leaves presence alone: agents' consoles are
        connected to the other replicas."""
        if alone:
            await self.run(self.handoff.mark_all_offline)

    async def maintain(self, now_tick: int) -> None:
        """Periodic upkeep (every ~15 s): release chats of agents gone past their grace;
        hourly, close resolved tickets past the reopen window."""
        await self._announce_release(
            await self.run(lambda s: [self.summary(s, t) for t in self.handoff.release_stale(s)])
        )
        if now_tick % 240 == 0:
            await self.run(self.handoff.close_resolved)

    async def set_presence(self, agent_id: int, status: str) -> None:
        await self.run(lambda s: self.handoff.set_presence(s, agent_id, status))
        await self._console.queue_changed()

    def tickets_of_agent(self, session: Session, agent_id: int) -> list[Ticket]:
        return list(session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status.in_(list(AGENT_HOLDS)))
            .order_by(Ticket.priority, Ticket.first_response_due)
        ))


__all__ = ["ConsoleEvents", "HelpDesk", "TicketSummary", "load_handoff_policy"]
