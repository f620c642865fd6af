"""Periods, filters and targets, and the SQL that picks what a KPI counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, exists, select

from bot.transcript.models import Conversation
from handoff.models import Ticket


@dataclass(frozen=True)
class Period:
    """Half-open [start, end), aware UTC. Everything is judged as of ``end``: a timestamp
    at or after ``end`` is treated as not having happened yet, so a past period gives the
    same numbers whenever it is computed (up to later reopenings, see docs/kpis.md).

    A period that has not ended yet (today's) is judged as of ``now`` instead
    (``as_of``): a ticket whose due time is still ahead is pending, not breached.
    Recorded timestamps cannot lie after ``now``, so only due times see the difference.
    ``now`` defaults to the wall clock when the period is made."""

    start: datetime
    end: datetime
    now: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None or self.now.tzinfo is None:
            raise ValueError("Period needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("Period end must be after its start")

    @property
    def as_of(self) -> datetime:
        """The moment the period is judged at: its end, or now while it is still running."""
        return min(self.end, self.now)

    def part(self, start: datetime, end: datetime) -> Period:
        """A sub-period (a trend bucket) judged with the same ``now``."""
        return Period(start, end, self.now)


@dataclass(frozen=True)
class Filters:
    """Optional narrowing. ``channel`` applies to everything; ``category`` and ``agent_id``
    (the ticket's assignee) select tickets directly, and for conversation and message
    KPIs keep only conversations with a ticket of that category / assignee created
    before period end."""

    channel: str | None = None
    category: str | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class KpiTargets:
    """Seed targets from issue 6; configurable."""

    sla_compliance: float = 0.90  # share of tickets within their due time
    first_response_seconds: float = 300.0  # p90 of first human response time


NO_FILTERS = Filters()
DEFAULT_TARGETS = KpiTargets()


def in_period(column: SQLColumnExpression[datetime], period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def before_end(column: SQLColumnExpression[datetime | None], period: Period) -> ColumnElement[bool]:
    """Happened before period end (NULL -> false: has not happened)."""
    return and_(column.is_not(None), column < period.end)


def ticket_filter_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.channel is not None:
        conditions.append(Ticket.channel == filters.channel)
    if filters.category is not None:
        conditions.append(Ticket.category == filters.category)
    if filters.agent_id is not None:
        conditions.append(Ticket.assignee_id == filters.agent_id)
    return conditions


def conversation_has_matching_ticket(
    conversation_id: SQLColumnExpression[str], period: Period, filters: Filters
) -> ColumnElement[bool] | None:
    """EXISTS a ticket of the category / assignee, or None when neither filter is set."""
    if filters.category is None and filters.agent_id is None:
        return None
    conditions = [Ticket.conversation_id == conversation_id, Ticket.created_at < period.end]
    if filters.category is not None:
        conditions.append(Ticket.category == filters.category)
    if filters.agent_id is not None:
        conditions.append(Ticket.assignee_id == filters.agent_id)
    return exists().where(*conditions)


def conversations_in_scope(period: Period, filters: Filters) -> Select[str]:
    """Conversations started in the period in which the customer wrote at least once
    before period end (an opened widget without a message is not a conversation)."""
    # first_customer_message_at is the earliest customer message's created_at, kept by a
    # trigger on messages (migration 0007): "< end" is "the customer wrote before end".
    customer_wrote = Conversation.first_customer_message_at < period.end
    query = select(Conversation.id).where(in_period(Conversation.created_at, period), customer_wrote)
    if filters.channel is not None:
        query = query.where(Conversation.channel == filters.channel)
    matching = conversation_has_matching_ticket(Conversation.id, period, filters)
    if matching is not None:
        query = query.where(matching)
    return query


def tickets_in_scope(period: Period, filters: Filters) -> list[ColumnElement[bool]]:
    """Ticket cohort: tickets created in the period, narrowed by the filters."""
    return [in_period(Ticket.created_at, period), *ticket_filter_conditions(filters)]
