"""The handoff service: escalation, queue, claims, replies, hand-back, SLA, presence.

Every method takes a SQLAlchemy ``Session`` owned by the caller, who commits (or rolls
back: after any ``ConcurrentUpdate`` the transaction is spoilt and must be rolled back).
Nothing here creates engines or sessions. Ownership changes go through
``handoff.ownership.transition`` and ticket status changes through
``handoff.lifecycle.check_status_move``; every ticket change writes a ``TicketEvent``
saying who, when and why.

Concurrency: ``tickets`` and ``conversation_owners`` rows carry a version that every ORM
update checks (optimistic locking), so two writers cannot silently overwrite each other;
claiming additionally uses a conditional UPDATE (``WHERE assignee_id IS NULL``) so that
of several agents exactly one wins.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from handoff.clock import Clock, require_aware, system_clock
from handoff.errors import (
    AgentUnavailable,
    AlreadyClaimed,
    ConcurrentUpdate,
    IllegalTransition,
    NotOwner,
    TicketNotFound,
)
from handoff.lifecycle import (
    ASSIGNED_STATUSES,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    ActorKind,
    CloseReason,
    EscalationReason,
    TicketStatus,
    check_status_move,
    parse_reason,
)
from handoff.models import (
    AgentPresence,
    ConversationOwner,
    Ticket,
    TicketEvent,
    TicketNote,
    parse_ticket_number,
)
from handoff.ownership import (
    AgentClaims,
    AgentGraceExpired,
    CustomerCancels,
    Escalate,
    Event,
    HandBack,
    NoAgent,
    Owner,
    Ownership,
    Reopen,
    Resolve,
    Route,
    Transfer,
    transition,
)
from handoff.policy import HandoffPolicy
from handoff.presence import (
    PresenceStatus,
    mark_all_offline,
    offline_since,
    online_agent_ids,
    parse_presence,
    upsert_presence,
)
from handoff.queue import (
    CLAIM_EVENT,
    QueueEntry,
    expected_wait,
    list_queue,
    position_in_queue,
    queue_query,
)
from handoff.sla import SlaState, due_times, sla_state

logger = logging.getLogger(__name__)

_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_NOTE_CHARS = 10_000
MAX_SUMMARY_CHARS = 10_000
SUBJECT_CHARS = 200
# claim_next retries this often when, on SQLite, another agent takes the top ticket first.
CLAIM_NEXT_ATTEMPTS = 5


@dataclass(frozen=True)
class Actor:
    """Who did something to a ticket (stored on every event)."""

    kind: ActorKind
    id: str | None = None

    @classmethod
    def agent(cls, agent_id: int) -> "Actor":
        return cls(ActorKind.AGENT, str(agent_id))

    @classmethod
    def customer(cls, conversation_id: str) -> "Actor":
        return cls(ActorKind.CUSTOMER, conversation_id)


BOT = Actor(ActorKind.BOT)
SYSTEM = Actor(ActorKind.SYSTEM)


@dataclass(frozen=True)
class Availability:
    open_now: bool
    agents_online: int
    # Start of the next opening (== now while open).
    next_opening: datetime


@dataclass(frozen=True)
class WaitingInfo:
    """What to tell a customer whose ticket waits: number, place, wait, opening."""

    ticket_id: int
    number: str
    status: str
    position: int | None  # None when the ticket is no longer in the queue
    expected_wait: timedelta | None  # None when nobody is online to estimate from
    agents_online: int
    open_now: bool
    next_opening: datetime
    first_response_due: datetime


@dataclass(frozen=True)
class TicketStatusView:
    """A customer's view of their own ticket ("what's the status of HL-1001")."""

    ticket_id: int
    number: str
    status: str
    category: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution_note: str | None
    position: int | None
    expected_wait: timedelta | None


@dataclass(frozen=True)
class HandoffReport:
    since: datetime
    # Escalations (new, repeated or reopening) by reason.
    escalations: dict[str, int]
    tickets_created: int
    abandoned: int
    reopened: int
    resolved: int


class Handoff:
    """The handoff domain for one policy and clock; stateless otherwise (thread-safe)."""

    def __init__(self, policy: HandoffPolicy | None = None, clock: Clock = system_clock) -> None:
        self.policy = policy or HandoffPolicy()
        self._clock = clock

    def now(self) -> datetime:
        return require_aware(self._clock(), "clock value")

    # Ownership ----------------------------------------------------------------------

    def owner_of(self, session: Session, conversation_id: str) -> Ownership:
        """Who owns the conversation; the bot when there is no row."""
        _check_conversation_id(conversation_id)
        return _ownership(session.get(ConversationOwner, conversation_id))

    def bot_may_speak(self, session: Session, conversation_id: str) -> bool:
        return self.owner_of(session, conversation_id).bot_may_speak

    def agent_may_write(self, session: Session, conversation_id: str, agent_id: int) -> bool:
        return self.owner_of(session, conversation_id).agent_may_write(agent_id)

    # Escalation ---------------------------------------------------------------------

    def escalate(
        self,
        session: Session,
        conversation_id: str,
        channel: str,
        reason: str | EscalationReason,
        *,
        category: str | None = None,
        subject: str | None = None,
        summary: str = "",
        details: Mapping[str, Any] | None = None,
        sentiment: float | None = None,
        customer_key: str | None = None,
    ) -> Ticket:
        """Hand the conversation to the queue and return its ticket.

        - The conversation already has an open ticket (queued or with an agent): that
          ticket is returned, the escalation recorded on it ("escalated_again"), new
          details merged in and its priority raised if the new reason warrants it.
        - Its last ticket was resolved within the reopen window: that ticket is reopened.
        - Otherwise a new ticket: received -> classified, priority and SLA due times set.
        """
        why = parse_reason(reason)
        _check_conversation_id(conversation_id)
        channel = _check_channel(channel)
        if category is not None:
            self.policy.category(category)  # ValueError for an unknown category
        if sentiment is not None and not -1.0 <= sentiment <= 1.0:
            raise ValueError("sentiment must be within [-1, 1]")
        if len(summary) > MAX_SUMMARY_CHARS:
            raise ValueError(f"summary longer than {MAX_SUMMARY_CHARS} characters")
        extra = _check_details(details)
        if customer_key is not None and not 0 < len(customer_key) <= 128:
            raise ValueError("customer_key must be 1-128 characters")
        now = self.now()
        actor = _escalation_actor(why, conversation_id)
        state = self.owner_of(session, conversation_id)

        if state.owner is not Owner.BOT:
            assert state.ticket_id is not None
            ticket = self._ticket(session, state.ticket_id)
            return self._escalate_again(
                session, ticket, why, actor, now, summary, extra, sentiment
            )

        previous = self._reopenable(session, conversation_id, now)
        event: Event
        if previous is not None:
            ticket = self._reopen(session, previous, why, actor, now, sentiment, extra)
            event = Reopen(ticket.id)
        else:
            ticket = self._open_ticket(
                session, conversation_id, channel, why, actor, now,
                category=category, subject=subject, summary=summary, details=extra,
                sentiment=sentiment, customer_key=customer_key,
            )
            event = Escalate(why, ticket.id)
        self._transition(session, conversation_id, channel, event, now)
        self._note_availability(session, ticket, now)
        _flush(session)
        logger.info(
            "escalated %s (%s, %s, priority %d) for conversation %s",
            ticket.number, why, ticket.category, ticket.priority, conversation_id,
        )
        return ticket

    def _open_ticket(
        self,
        session: Session,
        conversation_id: str,
        channel: str,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        *,
        category: str | None,
        subject: str | None,
        summary: str,
        details: dict[str, Any],
        sentiment: float | None,
        customer_key: str | None,
    ) -> Ticket:
        repeat = self._is_repeat_contact(session, conversation_id, customer_key, now)
        words = " ".join([subject or "", summary, *(str(v) for v in details.values())])
        chosen = category or self.policy.classify(words)
        priority = self.policy.priority(chosen, reason, sentiment, repeat)
        first_due, resolution_due = due_times(self.policy, now, chosen)
        ticket = Ticket(
            conversation_id=conversation_id,
            channel=channel,
            customer_key=customer_key,
            reason=reason,
            category=chosen,
            priority=priority,
            status=TicketStatus.RECEIVED,
            subject=(subject or _subject_from(summary, reason))[:SUBJECT_CHARS],
            summary=summary,
            details=details,
            sentiment=sentiment,
            repeat_contact=repeat,
            created_at=now,
            queued_at=now,
            first_response_due=first_due,
            resolution_due=resolution_due,
            reopen_count=0,
            updated_at=now,
        )
        session.add(ticket)
        _flush(session)  # the id is needed for the events
        self._event(session, ticket, actor, "received", now, to_status=TicketStatus.RECEIVED,
                    data={"reason": str(reason)})
        self._move(
            session, ticket, TicketStatus.CLASSIFIED, SYSTEM, "classified", now,
            data={
                "category": chosen,
                "classified_by": "caller" if category else "keywords",
                "priority": priority,
                "repeat_contact": repeat,
                "sentiment": sentiment,
            },
        )
        return ticket

    def _escalate_again(
        self,
        session: Session,
        ticket: Ticket,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        summary: str,
        details: dict[str, Any],
        sentiment: float | None,
    ) -> Ticket:
        if sentiment is not None:
            ticket.sentiment = sentiment if ticket.sentiment is None else min(ticket.sentiment, sentiment)
        # Escalating again only ever makes a ticket more urgent.
        ticket.priority = min(
            ticket.priority,
            self.policy.priority(ticket.category, reason, ticket.sentiment, ticket.repeat_contact),
        )
        merged = dict(ticket.details or {})
        merged.update({k: v for k, v in details.items() if k not in merged})
        ticket.details = merged
        if summary and not ticket.summary:
            ticket.summary = summary
        ticket.updated_at = now
        self._event(session, ticket, actor, "escalated_again", now,
                    data={"reason": str(reason), "priority": ticket.priority})
        _flush(session)
        return ticket

    def _reopenable(self, session: Session, conversation_id: str, now: datetime) -> Ticket | None:
        latest = session.scalars(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        ).first()
        if (
            latest is not None
            and latest.status == TicketStatus.RESOLVED
            and latest.resolved_at is not None
            and now - latest.resolved_at <= self.policy.reopen_window
        ):
            return latest
        return None

    def _reopen(
        self,
        session: Session,
        ticket: Ticket,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        sentiment: float | None,
        details: dict[str, Any],
    ) -> Ticket:
        """Back to the queue (not straight to the same agent: they may be busy or gone);
        the previous agent is kept on the ticket so the console can point it out."""
        self._move(
            session, ticket, TicketStatus.REOPENED, actor, "reopened", now,
            data={"reason": str(reason), "previous_assignee_id": ticket.assignee_id,
                  "previous_resolution_note": ticket.resolution_note},
        )
        ticket.reopen_count += 1
        ticket.repeat_contact = True
        ticket.previous_assignee_id = ticket.assignee_id
        ticket.assignee_id = None
        if sentiment is not None:
            ticket.sentiment = sentiment
        ticket.priority = self.policy.priority(ticket.category, reason, ticket.sentiment, True)
        ticket.details = {**(ticket.details or {}), **details}
        # A reopened ticket needs a fresh first answer; its clock restarts.
        ticket.first_response_due, ticket.resolution_due = due_times(
            self.policy, now, ticket.category
        )
        ticket.first_response_at = None
        ticket.resolved_at = None
        ticket.resolution_note = None
        ticket.queued_at = now
        ticket.claimed_at = None
        return ticket

    def _is_repeat_contact(
        self, session: Session, conversation_id: str, customer_key: str | None, now: datetime
    ) -> bool:
        same_customer = Ticket.conversation_id == conversation_id
        if customer_key:
            same_customer = same_customer | (Ticket.customer_key == customer_key)
        earlier = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(same_customer, Ticket.created_at >= now - self.policy.repeat_contact_window)
        )
        return bool(earlier)

    def _note_availability(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Record on the ticket that nobody can take it right now (it stays queued)."""
        open_now = self.policy.opening_hours.is_open(now)
        online = online_agent_ids(session, now, self.policy.presence_timeout)
        if open_now and online:
            return
        kind = "after_hours" if not open_now else "no_agent_online"
        self._transition(session, ticket.conversation_id, ticket.channel,
                         NoAgent(after_hours=not open_now), now)
        self._event(session, ticket, SYSTEM, kind, now,
                    data={"next_opening": self.policy.opening_hours.next_opening(now).isoformat()})

    # Queue --------------------------------------------------------------------------

    def queue(self, session: Session) -> list[QueueEntry]:
        """Open, unassigned tickets: priority first, then first-response due time."""
        return list_queue(session, self.policy, self.now())

    def queue_position(self, session: Session, ticket_id: int) -> tuple[int, timedelta | None]:
        """(1-based place, expected wait); the wait is None when no agent is online.

        ``IllegalTransition`` if the ticket is not waiting in the queue.
        """
        ticket = self._ticket(session, ticket_id)
        position = position_in_queue(session, ticket_id)
        if position is None:
            raise IllegalTransition(f"ticket {ticket.number} is {ticket.status}, not in the queue")
        now = self.now()
        online = len(self.agents_online(session, now))
        return position, expected_wait(session, self.policy, now, position, online)

    def waiting_info(self, session: Session, ticket_id: int) -> WaitingInfo:
        """Everything the customer should be told while the ticket waits."""
        ticket = self._ticket(session, ticket_id)
        now = self.now()
        online = len(self.agents_online(session, now))
        position = position_in_queue(session, ticket_id)
        wait = None if position is None else expected_wait(
            session, self.policy, now, position, online
        )
        hours = self.policy.opening_hours
        return WaitingInfo(
            ticket_id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            position=position,
            expected_wait=wait,
            agents_online=online,
            open_now=hours.is_open(now),
            next_opening=hours.next_opening(now),
            first_response_due=ticket.first_response_due,
        )

    def availability(self, session: Session) -> Availability:
        now = self.now()
        hours = self.policy.opening_hours
        return Availability(
            open_now=hours.is_open(now),
            agents_online=len(self.agents_online(session, now)),
            next_opening=hours.next_opening(now),
        )

    # Claiming -----------------------------------------------------------------------

    def claim(self, session: Session, ticket_id: int, agent_id: int) -> Ticket:
        """Give a queued ticket to an agent; of concurrent claims exactly one wins.

        ``TicketNotFound`` (404) for an unknown ticket, ``AlreadyClaimed`` (409) when
        another agent was first or the ticket left the queue.
        """
        now = self.now()
        seen = session.execute(
            select(Ticket.status, Ticket.assignee_id).where(Ticket.id == ticket_id)
        ).first()
        if seen is None:
            raise TicketNotFound(f"no ticket with id {ticket_id}")
        if seen.assignee_id is not None or seen.status not in QUEUED_STATUSES:
            raise AlreadyClaimed(_not_claimable(ticket_id, seen.status, seen.assignee_id, agent_id))
        # The race is decided here: the database applies one of concurrent UPDATEs
        # first; the others then find assignee_id set (or the status moved) and match
        # no row. On PostgreSQL they wait on the row lock and re-check after it.
        result = session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                Ticket.assignee_id.is_(None),
                Ticket.status == seen.status,
            )
            .values(
                assignee_id=agent_id,
                status=TicketStatus.ASSIGNED,
                claimed_at=now,
                updated_at=now,
                version=Ticket.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            current = session.execute(
                select(Ticket.status, Ticket.assignee_id).where(Ticket.id == ticket_id)
            ).one()
            raise AlreadyClaimed(
                _not_claimable(ticket_id, current.status, current.assignee_id, agent_id)
            )
        ticket = self._ticket(session, ticket_id, refresh=True)
        waited = (now - ticket.queued_at).total_seconds() if ticket.queued_at else None
        self._event(session, ticket, Actor.agent(agent_id), CLAIM_EVENT, now,
                    from_status=seen.status, to_status=TicketStatus.ASSIGNED,
                    data={"waited_seconds": waited})
        self._transition(session, ticket.conversation_id, ticket.channel,
                         AgentClaims(agent_id), now)
        upsert_presence(session, agent_id, now, status=None)
        _flush(session)
        logger.info("agent %s claimed %s", agent_id, ticket.number)
        return ticket

    def claim_next(self, session: Session, agent_id: int) -> Ticket | None:
        """Claim the ticket at the head of the queue; None when the queue is empty.

        On PostgreSQL the head is picked ``FOR UPDATE SKIP LOCKED``, so agents picking
        at the same moment get different tickets instead of queueing on one row lock.
        """
        tried: list[int] = []
        for _ in range(CLAIM_NEXT_ATTEMPTS):
            query = queue_query().with_only_columns(Ticket.id).limit(1)
            if tried:
                query = query.where(Ticket.id.not_in(tried))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=Ticket)
            ticket_id = session.scalar(query)
            if ticket_id is None:
                return None
            try:
                return self.claim(session, ticket_id, agent_id)
            except AlreadyClaimed:
                tried.append(ticket_id)
        return None

    # Conversation traffic -----------------------------------------------------------

    def record_customer_message(self, session: Session, conversation_id: str) -> Route:
        """Where a customer message goes (exactly one of bot, queue, agent).

        A reply while the ticket waits on the customer puts it back in progress. A
        message to the bot never reopens a resolved ticket by itself (see
        docs/handoff.md, "Reopening"): escalating again inside the window does.
        """
        state = self.owner_of(session, conversation_id)
        if state.owner is Owner.AGENT:
            assert state.ticket_id is not None
            ticket = self._ticket(session, state.ticket_id)
            if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
                now = self.now()
                self._move(session, ticket, TicketStatus.IN_PROGRESS,
                           Actor.customer(conversation_id), "customer_replied", now)
                _flush(session)
        return state.route()

    def record_agent_reply(self, session: Session, conversation_id: str, agent_id: int) -> Ticket:
        """Check that the agent owns the conversation (else ``NotOwner``, 403) and note the
        reply: the first one stamps ``first_response_at`` and moves assigned -> in_progress.

        Call it in the same transaction that stores the agent's message. On PostgreSQL
        the ownership row is locked until then, so a transfer or release cannot slip in
        between the check and the message.
        """
        _check_conversation_id(conversation_id)
        row = session.scalars(
            select(ConversationOwner)
            .where(ConversationOwner.conversation_id == conversation_id)
            .with_for_update()
        ).first()
        state = _ownership(row)
        if not state.agent_may_write(agent_id):
            raise NotOwner(_not_owner_reason(state, agent_id))
        assert state.ticket_id is not None
        ticket = self._ticket(session, state.ticket_id)
        now = self.now()
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            within = now <= ticket.first_response_due
            if ticket.status == TicketStatus.ASSIGNED:
                self._move(session, ticket, TicketStatus.IN_PROGRESS, Actor.agent(agent_id),
                           "first_response", now, data={"within_sla": within})
            else:
                self._event(session, ticket, Actor.agent(agent_id), "first_response", now,
                            data={"within_sla": within})
            _flush(session)
        elif ticket.status == TicketStatus.ASSIGNED:
            self._move(session, ticket, TicketStatus.IN_PROGRESS, Actor.agent(agent_id),
                       "agent_replied", now)
            _flush(session)
        return ticket

    def await_customer(self, session: Session, ticket_id: int, agent_id: int) -> Ticket:
        """The agent asked the customer something: waiting_on_customer until they reply."""
        ticket, now = self._owned_ticket(session, ticket_id, agent_id)
        self._move(session, ticket, TicketStatus.WAITING_ON_CUSTOMER, Actor.agent(agent_id),
                   "waiting_on_customer", now)
        _flush(session)
        return ticket

    # Agent actions ------------------------------------------------------------------

    def add_note(self, session: Session, ticket_id: int, agent_id: int, text: str) -> TicketNote:
        """An internal note (never shown to the customer); any agent may add one."""
        text = text.strip()
        if not text:
            raise ValueError("an empty note")
        if len(text) > MAX_NOTE_CHARS:
            raise ValueError(f"a note longer than {MAX_NOTE_CHARS} characters")
        ticket = self._ticket(session, ticket_id)
        now = self.now()
        note = TicketNote(ticket_id=ticket.id, agent_id=agent_id, at=now, text=text)
        session.add(note)
        _flush(session)
        self._event(session, ticket, Actor.agent(agent_id), "note_added", now,
                    data={"note_id": note.id})
        _flush(session)
        return note

    def transfer(
        self, session: Session, ticket_id: int, from_agent: int, to_agent: int,
        note: str | None = None,
    ) -> Ticket:
        """Hand a live conversation to another online agent; status and SLA unchanged."""
        ticket, now = self._owned_ticket(session, ticket_id, from_agent)
        if to_agent not in self.agents_online(session, now):
            raise AgentUnavailable(f"agent {to_agent} is not online")
        self._transition(session, ticket.conversation_id, ticket.channel,
                         Transfer(from_agent, to_agent), now)
        ticket.previous_assignee_id = from_agent
        ticket.assignee_id = to_agent
        ticket.updated_at = now
        self._event(session, ticket, Actor.agent(from_agent), "transferred", now,
                    from_status=ticket.status, to_status=ticket.status, note=note,
                    data={"from_agent": from_agent, "to_agent": to_agent})
        _flush(session)
        logger.info("%s transferred from agent %s to %s", ticket.number, from_agent, to_agent)
        return ticket

    def hand_back(
        self, session: Session, ticket_id: int, agent_id: int, note: str = ""
    ) -> Ticket:
        """The agent is done and the bot resumes: ticket resolved (reopenable within the
        window), owner -> BOT. ``note`` is the resolution note / context for the bot.

        Resolved rather than waiting_on_customer because no one would watch an open
        ticket whose conversation the bot owns: open tickets are always queued or held
        by an agent.
        """
        return self._finish(session, ticket_id, agent_id, note, None, "handed_back")

    def resolve(
        self, session: Session, ticket_id: int, agent_id: int, note: str,
        category: str | None = None,
    ) -> Ticket:
        """Resolved with a note and (optionally corrected) category; owner -> BOT."""
        if category is not None:
            self.policy.category(category)
        return self._finish(session, ticket_id, agent_id, note, category, "resolved")

    def _finish(
        self, session: Session, ticket_id: int, agent_id: int, note: str,
        category: str | None, kind: str,
    ) -> Ticket:
        ticket, now = self._owned_ticket(session, ticket_id, agent_id)
        event: Event = HandBack(agent_id) if kind == "handed_back" else Resolve(agent_id)
        self._transition(session, ticket.conversation_id, ticket.channel, event, now)
        data: dict[str, Any] = {}
        if category is not None and category != ticket.category:
            data = {"category": category, "previous_category": ticket.category}
            ticket.category = category
        self._move(session, ticket, TicketStatus.RESOLVED, Actor.agent(agent_id), kind, now,
                   note=note or None, data=data or None)
        ticket.resolved_at = now
        ticket.resolution_note = note or None
        _flush(session)
        logger.info("agent %s %s %s", agent_id, kind.replace("_", " "), ticket.number)
        return ticket

    def close_resolved(self, session: Session, older_than: timedelta | None = None) -> int:
        """Close tickets resolved longer ago than ``older_than`` (default: the reopen
        window); they can no longer be reopened. Returns how many were closed."""
        now = self.now()
        cutoff = now - (older_than if older_than is not None else self.policy.reopen_window)
        tickets = session.scalars(
            select(Ticket).where(
                Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < cutoff
            )
        ).all()
        for ticket in tickets:
            self._move(session, ticket, TicketStatus.CLOSED, SYSTEM, "closed", now)
            ticket.closed_at = now
            ticket.close_reason = CloseReason.RESOLVED
        _flush(session)
        return len(tickets)

    # Customer actions ---------------------------------------------------------------

    def cancel_by_customer(self, session: Session, conversation_id: str) -> Ticket | None:
        """The customer leaves the queue ("never mind"): ticket closed as abandoned,
        owner -> BOT. None if the bot already owns the conversation; IllegalTransition
        once an agent has it (the customer talks to the agent then)."""
        state = self.owner_of(session, conversation_id)
        if state.owner is Owner.BOT:
            return None
        assert state.ticket_id is not None
        ticket = self._ticket(session, state.ticket_id)
        now = self.now()
        row = session.get(ConversationOwner, conversation_id)
        assert row is not None
        self._transition(session, conversation_id, row.channel, CustomerCancels(), now)
        self._move(session, ticket, TicketStatus.CLOSED, Actor.customer(conversation_id),
                   "abandoned", now)
        ticket.closed_at = now
        ticket.close_reason = CloseReason.ABANDONED
        _flush(session)
        logger.info("customer left the queue: %s abandoned", ticket.number)
        return ticket

    def ticket_status(
        self, session: Session, number_or_id: str | int, conversation_id: str
    ) -> TicketStatusView:
        """A ticket of this conversation by number ("HL-1001") or id; another
        conversation's ticket is reported as not found (its existence is not leaked)."""
        _check_conversation_id(conversation_id)
        ticket_id = number_or_id if isinstance(number_or_id, int) else parse_ticket_number(
            number_or_id
        )
        ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is None or ticket.conversation_id != conversation_id:
            raise TicketNotFound(f"no ticket {number_or_id} in this conversation")
        now = self.now()
        position = position_in_queue(session, ticket.id)
        wait = None
        if position is not None:
            wait = expected_wait(session, self.policy, now, position,
                                 len(self.agents_online(session, now)))
        return TicketStatusView(
            ticket_id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            category=ticket.category,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            resolved_at=ticket.resolved_at,
            resolution_note=ticket.resolution_note,
            position=position,
            expected_wait=wait,
        )

    def tickets_of(
        self, session: Session, conversation_id: str, customer_key: str | None = None
    ) -> list[Ticket]:
        """Past and present tickets of a customer, newest first (for the console)."""
        same = Ticket.conversation_id == conversation_id
        if customer_key:
            same = same | (Ticket.customer_key == customer_key)
        return list(session.scalars(select(Ticket).where(same).order_by(Ticket.id.desc())))

    def events(self, session: Session, ticket_id: int) -> list[TicketEvent]:
        return list(session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        ))

    def notes(self, session: Session, ticket_id: int) -> list[TicketNote]:
        return list(session.scalars(
            select(TicketNote).where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)
        ))

    def get_ticket(self, session: Session, ticket_id: int) -> Ticket:
        return self._ticket(session, ticket_id)

    # SLA ----------------------------------------------------------------------------

    def sla_state(self, ticket: Ticket, now: datetime | None = None) -> SlaState:
        return sla_state(self.policy, ticket, now or self.now())

    # Presence -----------------------------------------------------------------------

    def set_presence(
        self, session: Session, agent_id: int, status: str | PresenceStatus
    ) -> AgentPresence:
        """Online / away / offline. Going offline starts the disconnect grace period."""
        row = upsert_presence(session, agent_id, self.now(), parse_presence(status))
        _flush(session)
        return row

    def heartbeat(self, session: Session, agent_id: int) -> None:
        """A sign of life (only matters when ``policy.presence_timeout`` is set)."""
        upsert_presence(session, agent_id, self.now(), status=None)
        _flush(session)

    def agents_online(self, session: Session, now: datetime | None = None) -> list[int]:
        return online_agent_ids(session, now or self.now(), self.policy.presence_timeout)

    def mark_all_offline(self, session: Session) -> int:
        """Call when the gateway starts: consoles reconnect within the grace period or
        their conversations go back to the queue (release_stale)."""
        return mark_all_offline(session, self.now())

    def release_disconnected(
        self, session: Session, agent_id: int, *, force: bool = False
    ) -> list[Ticket]:
        """Return the agent's conversations to the queue once their grace has run out
        (nothing happens while they are online or away, or still within the grace).
        ``force`` releases at once (a supervisor's decision)."""
        return self._release_agent(session, agent_id, self.now(), force)

    def release_stale(self, session: Session, now: datetime | None = None) -> list[Ticket]:
        """Release every agent whose disconnect grace has run out (call periodically)."""
        moment = require_aware(now) if now is not None else self.now()
        holders = session.scalars(
            select(Ticket.assignee_id)
            .where(Ticket.status.in_(list(ASSIGNED_STATUSES)), Ticket.assignee_id.is_not(None))
            .distinct()
        ).all()
        released: list[Ticket] = []
        for agent_id in sorted(a for a in holders if a is not None):
            released.extend(self._release_agent(session, agent_id, moment, force=False))
        return released

    def _release_agent(
        self, session: Session, agent_id: int, now: datetime, force: bool
    ) -> list[Ticket]:
        if not force:
            gone_since = offline_since(
                session.get(AgentPresence, agent_id), now, self.policy.presence_timeout
            )
            if gone_since is None or now - gone_since < self.policy.agent_grace:
                return []
        tickets = session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status.in_(list(ASSIGNED_STATUSES)))
            .order_by(Ticket.id)
        ).all()
        for ticket in tickets:
            self._release(session, ticket, agent_id, now, forced=force)
        _flush(session)
        if tickets:
            logger.info("released %d conversation(s) of agent %s", len(tickets), agent_id)
        return list(tickets)

    def _release(
        self, session: Session, ticket: Ticket, agent_id: int, now: datetime, forced: bool
    ) -> None:
        self._transition(session, ticket.conversation_id, ticket.channel,
                         AgentGraceExpired(agent_id), now)
        self._move(session, ticket, TicketStatus.CLASSIFIED, SYSTEM, "released", now,
                   note="released by a supervisor" if forced else "agent disconnected",
                   data={"agent_id": agent_id})
        ticket.previous_assignee_id = agent_id
        ticket.assignee_id = None
        ticket.queued_at = now
        ticket.claimed_at = None

    # Reports ------------------------------------------------------------------------

    def report(self, session: Session, since: datetime) -> HandoffReport:
        since = require_aware(since)
        escalations: dict[str, int] = {reason.value: 0 for reason in EscalationReason}
        counts: dict[str, int] = {}
        rows = session.execute(
            select(TicketEvent.kind, TicketEvent.data).where(
                TicketEvent.at >= since,
                TicketEvent.kind.in_(
                    ["received", "reopened", "escalated_again", "abandoned", "resolved",
                     "handed_back"]
                ),
            )
        ).all()
        for kind, data in rows:
            counts[kind] = counts.get(kind, 0) + 1
            reason = (data or {}).get("reason")
            if kind in ("received", "reopened", "escalated_again") and reason in escalations:
                escalations[reason] += 1
        return HandoffReport(
            since=since,
            escalations=escalations,
            tickets_created=counts.get("received", 0),
            abandoned=counts.get("abandoned", 0),
            reopened=counts.get("reopened", 0),
            resolved=counts.get("resolved", 0) + counts.get("handed_back", 0),
        )

    # Internals ----------------------------------------------------------------------

    def _ticket(self, session: Session, ticket_id: int, refresh: bool = False) -> Ticket:
        ticket = session.get(Ticket, ticket_id, populate_existing=refresh)
        if ticket is None:
            raise TicketNotFound(f"no ticket with id {ticket_id}")
        return ticket

    def _owned_ticket(
        self, session: Session, ticket_id: int, agent_id: int
    ) -> tuple[Ticket, datetime]:
        ticket = self._ticket(session, ticket_id)
        if ticket.status not in OPEN_STATUSES:
            raise IllegalTransition(f"ticket {ticket.number} is already {ticket.status}")
        state = self.owner_of(session, ticket.conversation_id)
        if ticket.assignee_id != agent_id or not state.agent_may_write(agent_id):
            raise NotOwner(f"agent {agent_id} does not hold ticket {ticket.number}")
        return ticket, self.now()

    def _transition(
        self, session: Session, conversation_id: str, channel: str, event: Event, now: datetime
    ) -> Ownership:
        """Apply an ownership event and store the result (version-checked)."""
        row = session.get(ConversationOwner, conversation_id)
        new = transition(_ownership(row), event)
        if row is None:
            row = ConversationOwner(conversation_id=conversation_id, channel=channel)
            session.add(row)
        row.owner = new.owner
        row.agent_id = new.agent_id
        row.ticket_id = new.ticket_id
        row.updated_at = now
        return new

    def _move(
        self,
        session: Session,
        ticket: Ticket,
        target: TicketStatus,
        actor: Actor,
        kind: str,
        now: datetime,
        *,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        check_status_move(ticket.status, target)
        previous = ticket.status
        ticket.status = target
        ticket.updated_at = now
        self._event(session, ticket, actor, kind, now, from_status=previous, to_status=target,
                    note=note, data=data)

    def _event(
        self,
        session: Session,
        ticket: Ticket,
        actor: Actor,
        kind: str,
        now: datetime,
        *,
        from_status: str | None = None,
        to_status: str | None = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                actor_kind=actor.kind,
                actor_id=actor.id,
                kind=kind,
                from_status=from_status,
                to_status=to_status,
                note=note,
                data=data,
            )
        )


def _ownership(row: ConversationOwner | None) -> Ownership:
    if row is None:
        return Ownership()
    return Ownership(
        owner=Owner(row.owner),
        agent_id=row.agent_id,
        ticket_id=row.ticket_id if row.owner != Owner.BOT else None,
        version=row.version,
    )


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as error:
        raise ConcurrentUpdate(
            "someone else changed this conversation or ticket at the same time; try again"
        ) from error
    except IntegrityError as error:
        # The only unique keys we insert are conversation_owners rows: a concurrent
        # first escalation of the same conversation.
        raise ConcurrentUpdate("this conversation was escalated at the same time") from error


def _check_conversation_id(conversation_id: str) -> None:
    if not isinstance(conversation_id, str) or not _CONVERSATION_ID.match(conversation_id):
        raise ValueError("a conversation id is 32 lower-case hex characters")


def _check_channel(channel: str) -> str:
    if not channel or len(channel) > 16:
        raise ValueError("channel must be 1-16 characters")
    return channel


def _check_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    if details is None:
        return {}
    if not isinstance(details, Mapping) or not all(isinstance(k, str) for k in details):
        raise ValueError("details must be a mapping with string keys")
    return dict(details)


def _escalation_actor(reason: EscalationReason, conversation_id: str) -> Actor:
    # A request for a person comes from the customer; the other triggers are the bot's
    # judgement (or its failure).
    if reason is EscalationReason.CUSTOMER_REQUEST:
        return Actor.customer(conversation_id)
    return BOT


def _subject_from(summary: str, reason: EscalationReason) -> str:
    first_line = summary.strip().splitlines()[0] if summary.strip() else ""
    return first_line or reason.value.replace("_", " ").capitalize()


def _not_claimable(ticket_id: int, status: str, assignee: int | None, agent_id: int) -> str:
    number = f"ticket {ticket_id}"
    if assignee is not None:
        who = "you" if assignee == agent_id else "another agent"
        return f"{number} was already claimed by {who}"
    return f"{number} is {status}, no longer waiting in the queue"


def _not_owner_reason(state: Ownership, agent_id: int) -> str:
    if state.owner is Owner.AGENT:
        return f"agent {agent_id} does not own this conversation (another agent does)"
    return f"agent {agent_id} does not own this conversation (the {state.owner} does)"

