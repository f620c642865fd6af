"""Ticket vocabulary: statuses and the allowed moves between them, reasons, actors.

```
received ─► classified ─► assigned ─► in_progress ◄─► waiting_on_customer
                ▲   │         │            │                  │
   (released) ──┘   │         └────────────┴───────┬──────────┘
                    │ abandoned                    ▼
                    ▼                           resolved ─► closed
                  closed                           │
                                                   ▼ (escalated again within the window)
                                                reopened ─► assigned ...
```

"classified" doubles as "waiting in the queue": a ticket an agent released (grace
expired) goes back to it. Open tickets are exactly the ones a queue or an agent holds.
"""

from __future__ import annotations

from enum import StrEnum

from handoff.errors import IllegalTransition


class TicketStatus(StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


# Waiting for an agent (owner QUEUED, no assignee).
QUEUED_STATUSES = frozenset({TicketStatus.CLASSIFIED, TicketStatus.REOPENED})
# Held by an agent (owner AGENT, assignee set).
ASSIGNED_STATUSES = frozenset(
    {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER}
)
OPEN_STATUSES = QUEUED_STATUSES | ASSIGNED_STATUSES | {TicketStatus.RECEIVED}

_ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.RECEIVED: frozenset({TicketStatus.CLASSIFIED}),
    TicketStatus.CLASSIFIED: frozenset({TicketStatus.ASSIGNED, TicketStatus.CLOSED}),
    TicketStatus.REOPENED: frozenset({TicketStatus.ASSIGNED, TicketStatus.CLOSED}),
    TicketStatus.ASSIGNED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED,
         TicketStatus.CLASSIFIED}
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLASSIFIED}
    ),
    TicketStatus.WAITING_ON_CUSTOMER: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLASSIFIED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset(),
}


def check_status_move(current: str, target: TicketStatus) -> None:
    if target not in _ALLOWED[TicketStatus(current)]:
        raise IllegalTransition(f"a {current} ticket cannot become {target}")


class EscalationReason(StrEnum):
    """Why a conversation went to a human; recorded on the ticket and counted."""

    CUSTOMER_REQUEST = "customer_request"
    COMPLAINT = "complaint"
    REPEATED_FALLBACK = "repeated_fallback"
    NEGATIVE_FEEDBACK = "negative_feedback"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    BOT_ERROR = "bot_error"


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class CloseReason(StrEnum):
    RESOLVED = "resolved"  # closed after the reopen window of a resolved ticket
    ABANDONED = "abandoned"  # the customer left the queue


def parse_reason(reason: str | EscalationReason) -> EscalationReason:
    try:
        return EscalationReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in EscalationReason)
        raise ValueError(f"unknown escalation reason {reason!r}; known: {known}") from None
