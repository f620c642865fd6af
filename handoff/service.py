"""The handoff service: escalation, queue, claims, replies, hand-back, SLA, presence.

``Handoff`` is the one interface callers use (``from handoff import Handoff``). Its
methods live in modules by concern, each a part of the same object:

| module | part | methods |
|---|---|---|
| ``base.py`` | ``HandoffCore`` | policy, clock, ownership reads, ``agents_online``, ``get_ticket``, ``sla_state``; the shared internals (ticket loading, ownership transitions, status moves, events) and argument checks |
| ``escalation.py`` | ``Escalation`` | ``escalate`` (new ticket, escalated again, reopened) |
| ``waiting.py`` | ``Waiting`` | ``queue``, ``queue_position``, ``waiting_info``, ``availability`` |
| ``claims.py`` | ``Claims`` | ``claim``, ``claim_next``, ``transfer`` |
| ``traffic.py`` | ``Traffic`` | ``record_customer_message``, ``record_agent_reply``, ``await_customer``, ``add_note`` |
| ``closing.py`` | ``Closing`` | ``hand_back``, ``resolve``, ``close_resolved``, ``cancel_by_customer`` |
| ``lookup.py`` | ``Lookup`` | ``ticket_status``, ``tickets_of``, ``events``, ``notes`` |
| ``staffing.py`` | ``Staffing`` | ``set_presence``, ``heartbeat``, ``mark_all_offline``, ``release_disconnected``, ``release_stale`` |
| ``reports.py`` | ``Reports`` | ``report`` |
| ``views.py`` | | the answers: ``Availability``, ``WaitingInfo``, ``TicketStatusView``, ``HandoffReport`` |

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

from handoff.base import BOT, SYSTEM, Actor
from handoff.claims import Claims
from handoff.closing import Closing
from handoff.escalation import Escalation
from handoff.lookup import Lookup
from handoff.reports import Reports
from handoff.staffing import Staffing
from handoff.traffic import Traffic
from handoff.views import Availability, HandoffReport, TicketStatusView, WaitingInfo
from handoff.waiting import Waiting

__all__ = [
    "BOT", "SYSTEM", "Actor", "Availability", "Handoff", "HandoffReport", "TicketStatusView",
    "WaitingInfo",
]


class Handoff(Escalation, Waiting, Claims, Traffic, Closing, Lookup, Staffing, Reports):
    """The handoff domain for one policy and clock; stateless otherwise (thread-safe).

    ``Handoff(policy=None, clock=system_clock)``; see the module doc for where each
    method lives."""
