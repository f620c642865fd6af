"""SLA clock: due times and ok / at risk / breached, in business time.

Both targets (first human response, resolution) count only open time (see
``OpeningHours``): a ticket raised on Saturday with a 5-minute first-response target is
due 5 minutes after Monday's opening. With no opening hours configured, business time
is calendar time.

A target that was met reports ``ok`` if it was met by its due time and ``breached`` if
late, so reports keep showing breaches after the fact. A closed ticket's clock stops at
its close. "At risk" means at least ``at_risk_fraction`` (default 80 %) of the target's
business time is used up and it is not met yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from handoff.clock import require_aware
from handoff.models import Ticket
from handoff.policy import HandoffPolicy


class SlaLevel(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True)
class SlaTarget:
    level: SlaLevel
    due: datetime
    met_at: datetime | None
    # Business time used as a share of the target (may exceed 1 when breached).
    used: float


@dataclass(frozen=True)
class SlaState:
    first_response: SlaTarget
    resolution: SlaTarget

    @property
    def worst(self) -> SlaLevel:
        order = [SlaLevel.OK, SlaLevel.AT_RISK, SlaLevel.BREACHED]
        return max(self.first_response.level, self.resolution.level, key=order.index)


def due_times(policy: HandoffPolicy, start: datetime, category: str) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket that enters the queue at start."""
    hours = policy.opening_hours
    return (
        hours.add_business_time(start, policy.first_response_sla),
        hours.add_business_time(start, policy.category(category).resolution_sla),
    )


def sla_state(policy: HandoffPolicy, ticket: Ticket, now: datetime) -> SlaState:
    now = require_aware(now, "now")
    # The clock stops when the ticket closes (for example, abandoned in the queue).
    stop = min(now, ticket.closed_at) if ticket.closed_at else now
    category_sla = policy.categories.get(ticket.category, policy.category(None)).resolution_sla
    return SlaState(
        first_response=_target(
            policy, ticket.first_response_due, ticket.first_response_at, stop,
            policy.first_response_sla,
        ),
        resolution=_target(policy, ticket.resolution_due, ticket.resolved_at, stop, category_sla),
    )


def _target(
    policy: HandoffPolicy,
    due: datetime,
    met_at: datetime | None,
    now: datetime,
    allowance: timedelta,
) -> SlaTarget:
    end = met_at if met_at is not None else now
    # Measured back from the due time, so a ticket that left and re-entered the queue
    # (or a policy changed since) still reads consistently with its stored due time.
    hours = policy.opening_hours
    if end <= due:
        used = 1 - hours.business_time_between(end, due) / allowance
    else:
        used = 1 + hours.business_time_between(due, end) / allowance
    if end > due:
        level = SlaLevel.BREACHED
    elif met_at is None and used >= policy.at_risk_fraction:
        level = SlaLevel.AT_RISK
    else:
        level = SlaLevel.OK
    return SlaTarget(level=level, due=due, met_at=met_at, used=used)
