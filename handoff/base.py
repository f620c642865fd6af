"""The state and the building blocks every part of the handoff service shares: the
policy and clock, ownership reads, ticket loading, ownership transitions, status moves
and the event log, plus the argument checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from handoff.clock import Clock, require_aware, system_clock
from handoff.errors import ConcurrentUpdate, IllegalTransition, NotOwner, TicketNotFound
from handoff.lifecycle import (
    OPEN_STATUSES,
    ActorKind,
    EscalationReason,
    TicketStatus,
    check_status_move,
)
from handoff.models import ConversationOwner, Ticket, TicketEvent
from handoff.ownership import Event, Owner, Ownership, transition
from handoff.policy import HandoffPolicy
from handoff.presence import online_agent_ids
from handoff.sla import SlaState, sla_state


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


class HandoffCore:
    """The handoff domain for one policy and clock; stateless otherwise (thread-safe).

    The parts (escalation.py, waiting.py, claims.py, traffic.py, closing.py, lookup.py,
    staffing.py, reports.py) add their methods to this core; ``handoff.Handoff``
    (service.py) joins them."""

    def __init__(self, policy: HandoffPolicy | None = None, clock: Clock = system_clock) -> None:
        self.policy = policy or HandoffPolicy()
        self._clock = clock

    def now(self) -> datetime:
        return require_aware(self._clock(), "clock value")

    def owner_of(self, session: Session, conversation_id: str) -> Ownership:
        """Who owns the conversation; the bot when there is no row."""
        _check_conversation_id(conversation_id)
        return _ownership(session.get(ConversationOwner, conversation_id))

    def bot_may_speak(self, session: Session, conversation_id: str) -> bool:
        return self.owner_of(session, conversation_id).bot_may_speak

    def agent_may_write(self, session: Session, conversation_id: str, agent_id: int) -> bool:
        return self.owner_of(session, conversation_id).agent_may_write(agent_id)

    def agents_online(self, session: Session, now: datetime | None = None) -> list[int]:
        return online_agent_ids(session, now or self.now(), self.policy.presence_timeout)

    def get_ticket(self, session: Session, ticket_id: int) -> Ticket:
        return self._ticket(session, ticket_id)

    def sla_state(self, ticket: Ticket, now: datetime | None = None) -> SlaState:
        return sla_state(self.policy, ticket, now or self.now())

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
