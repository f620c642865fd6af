"""What the handoff service answers besides tickets: availability, a waiting
customer's place and wait, a customer's view of their ticket, and period counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handoff.queue import expected_wait


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
