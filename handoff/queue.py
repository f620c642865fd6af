"""The queue of tickets waiting for an agent, positions and expected waits.

Order: priority (1 first), then first-response due time, then ticket id, so at equal
priority the ticket closest to breaching its first-response SLA comes first.

Expected wait for position p with n agents online::

    interval = (span of the recent claims x agents who made them) / number of claims
               (claims in the last ``wait_estimate_window``, at least 2; otherwise
               ``default_claim_interval``, 5 minutes)
    wait     = interval x p / n

i.e. each agent takes a new ticket every ``interval`` and n agents work the queue in
parallel. No agent online -> None (the customer is told when we open instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from handoff.lifecycle import QUEUED_STATUSES
from handoff.models import Ticket, TicketEvent
from handoff.policy import HandoffPolicy
from handoff.sla import SlaLevel, sla_state

CLAIM_EVENT = "claimed"


@dataclass(frozen=True)
class QueueEntry:
    ticket_id: int
    number: str
    conversation_id: str
    channel: str
    reason: str
    category: str
    priority: int
    status: str
    subject: str
    repeat_contact: bool
    reopen_count: int
    previous_assignee_id: int | None
    created_at: datetime
    queued_at: datetime | None
    first_response_due: datetime
    resolution_due: datetime
    # The worse of the two SLA targets right now: ok | at_risk | breached.
    sla: SlaLevel


def queue_query() -> Select[tuple[Ticket]]:
    return (
        select(Ticket)
        .where(Ticket.status.in_(list(QUEUED_STATUSES)), Ticket.assignee_id.is_(None))
        .order_by(Ticket.priority, Ticket.first_response_due, Ticket.id)
    )


def list_queue(session: Session, policy: HandoffPolicy, now: datetime) -> list[QueueEntry]:
    return [_entry(ticket, policy, now) for ticket in session.scalars(queue_query())]


def position_in_queue(session: Session, ticket_id: int) -> int | None:
    """1-based place of the ticket, or None when it is not waiting in the queue."""
    ids = list(session.scalars(queue_query().with_only_columns(Ticket.id)))
    try:
        return ids.index(ticket_id) + 1
    except ValueError:
        return None


def claim_interval(session: Session, policy: HandoffPolicy, now: datetime) -> timedelta:
    """How often one agent takes a new ticket, measured from recent claims."""
    since = now - policy.wait_estimate_window
    claims = session.execute(
        select(TicketEvent.at, TicketEvent.actor_id).where(
            TicketEvent.kind == CLAIM_EVENT, TicketEvent.at >= since
        )
    ).all()
    if len(claims) < 2:
        return policy.default_claim_interval
    span = max(now - min(at for at, _ in claims), timedelta(minutes=1))
    agents = len({actor for _, actor in claims})
    return span * agents / len(claims)


def expected_wait(
    session: Session, policy: HandoffPolicy, now: datetime, position: int, agents_online: int
) -> timedelta | None:
    if agents_online <= 0:
        return None
    wait = claim_interval(session, policy, now) * position / agents_online
    return timedelta(seconds=round(wait.total_seconds()))


def _entry(ticket: Ticket, policy: HandoffPolicy, now: datetime) -> QueueEntry:
    return QueueEntry(
        ticket_id=ticket.id,
        number=ticket.number,
        conversation_id=ticket.conversation_id,
        channel=ticket.channel,
        reason=ticket.reason,
        category=ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        subject=ticket.subject,
        repeat_contact=ticket.repeat_contact,
        reopen_count=ticket.reopen_count,
        previous_assignee_id=ticket.previous_assignee_id,
        created_at=ticket.created_at,
        queued_at=ticket.queued_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        sla=sla_state(policy, ticket, now).worst,
    )
