"""Handoff: conversation ownership, tickets, queue, SLA clock and agent presence.

A leaf package (standard library and SQLAlchemy only). The caller owns sessions and
transactions; see docs/handoff.md for the state machine, lifecycle and API.
"""

from handoff.clock import Clock, ManualClock, system_clock
from handoff.errors import (
    AgentUnavailable,
    AlreadyClaimed,
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    HandoffError,
    IllegalTransition,
    NotFound,
    NotOwner,
    TicketNotFound,
)
from handoff.lifecycle import ActorKind, EscalationReason, TicketStatus
from handoff.models import HandoffBase, Ticket, TicketEvent, TicketNote, ticket_number
from handoff.ownership import Owner, Ownership, Recipient, Route
from handoff.policy import Category, HandoffPolicy
from handoff.presence import PresenceStatus
from handoff.queue import QueueEntry
from handoff.service import (
    Availability,
    Handoff,
    HandoffReport,
    TicketStatusView,
    WaitingInfo,
)
from handoff.sla import SlaLevel, SlaState

__all__ = [
    "ActorKind", "AgentUnavailable", "AlreadyClaimed", "Availability", "Category", "Clock",
    "ConcurrentUpdate", "Conflict", "EscalationReason", "Forbidden", "Handoff", "HandoffBase",
    "HandoffError", "HandoffPolicy", "HandoffReport", "IllegalTransition", "ManualClock",
    "NotFound", "NotOwner", "Owner", "Ownership", "PresenceStatus", "QueueEntry", "Recipient",
    "Route", "SlaLevel", "SlaState", "Ticket", "TicketEvent", "TicketNote", "TicketNotFound",
    "TicketStatus", "TicketStatusView", "WaitingInfo", "system_clock", "ticket_number",
]
