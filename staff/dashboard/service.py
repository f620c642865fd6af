"""The whole supervisor dashboard for one period and filters, in a handful of queries.

The KPI functions in staff/analytics each recompute the conversations in scope (the
costly "the customer wrote" check) and bring back ids; a dashboard of a dozen KPIs,
trends and breakdowns that way costs seconds. Here the counted conversations are
selected **once** per request into a temporary table (id, channel, trend bucket, and
the few timestamps the formulas compare), and everything else reads from it:

1. scope table: conversations started in the period (filters applied), one probe each
   for "the customer wrote" (before the bucket's end, else before the period's end);
2. conversation counts and escalations grouped by bucket and channel (SQL);
3. tickets of those conversations (reasons, complaints, first-contact resolution,
   category / agent membership): one narrow row per ticket, ~1 in 7 conversations;
4. CSAT surveys of those conversations: one row per survey;
5. tickets created in the period and their reopenings (response times, SLA, queue,
   abandonment): one row per ticket, because percentiles are computed in Python (SQLite
   has no percentile_cont) and each ticket is judged with the same pure functions as
   kpis.py;
6. bot messages grouped by bucket and channel (FAQ answer, fallback, helpfulness; SQL).

Every number is the KPI function's number (docs/kpis.md): totals and breakdowns equal
``kpi(session, period, filters + the breakdown's filter)``, each trend point equals
``kpi(session, bucket, filters)`` (a bucket judged as of its own end). The tests in
tests/staff/dashboard/ hold this on hand-built rows and on a seeded database. Counts only:
ids are for drill-down (staff/analytics/drilldown.py).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    DateTime,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from staff.analytics.kpis import (
    ANSWERED_RULES,
    FALLBACK_RULES,
    FAQ_DECISION_RULES,
    CsatAnswer,
    first_response_outcome,
    first_response_time_outcome,
    is_abandoned,
    queue_wait_outcome,
    resolution_outcome,
    summarise_csat,
)
from staff.analytics.results import percentile
from staff.analytics.scope import Filters, KpiTargets, Period, in_period, tickets_in_scope
from staff.auth.models import User
from bot.csat.models import CsatSurvey
from bot.transcript.models import Conversation, Message, UTCDateTime
from handoff.lifecycle import EscalationReason
from handoff.models import Ticket, TicketEvent

# Up to this many days the trend is per day, beyond it per week (7-day buckets from the start).
DAILY_UP_TO_DAYS = 62
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class DashboardTargets:
    """Targets shown against actuals (settings HELPLINE_KPI_TARGET_*). ``higher`` says
    which way is good; SLA and first response come from issue 6."""

    sla_compliance: float = 0.90
    first_response_seconds: float = 300.0
    containment: float = 0.70
    csat_average: float = 4.0
    abandonment_max: float = 0.05

    @property
    def kpi_targets(self) -> KpiTargets:
        return KpiTargets(sla_compliance=self.sla_compliance, first_response_seconds=self.first_response_seconds)


def buckets_of(period: Period) -> list[Period]:
    """Trend buckets: days from the start, or 7-day weeks beyond DAILY_UP_TO_DAYS days."""
    step = timedelta(days=1) if period.end - period.start <= timedelta(days=DAILY_UP_TO_DAYS) else timedelta(days=7)
    buckets: list[Period] = []
    start = period.start
    while start < period.end:
        buckets.append(period.part(start, min(start + step, period.end)))
        start += step
    return buckets


def _tree(column: Any, buckets: Sequence[Period], value: Callable[[int], Any], low: int = 0, high: int | None = None) -> Any:
    """A balanced CASE on ``column`` picking its bucket's value in log2(buckets) steps."""
    high = len(buckets) if high is None else high
    if high - low == 1:
        return value(low)
    middle = (low + high) // 2
    return case((column < buckets[middle].start, _tree(column, buckets, value, low, middle)),
                else_=_tree(column, buckets, value, middle, high))


def _bucket_index(column: Any, buckets: Sequence[Period]) -> Any:
    return _tree(column, buckets, lambda i: literal(i, Integer()))


def _bucket_end(column: Any, buckets: Sequence[Period]) -> Any:
    return _tree(column, buckets, lambda i: literal(buckets[i].end, UTCDateTime()))


# Rows brought back ----------------------------------------------------------------------


class ScopeTicket(NamedTuple):
    conversation_id: str
    channel: str  # the conversation's
    bucket: int
    in_bucket: bool  # the conversation counts in its bucket's own scope
    bucket_end: datetime
    reason: str
    category: str
    assignee_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    reopen_count: int
    repeat_contact: bool


class ScopeSurvey(NamedTuple):
    channel: str
    bucket: int
    in_bucket: bool
    answer: CsatAnswer


class PeriodTicket(NamedTuple):
    conversation_id: str
    ticket_id: int
    channel: str
    category: str
    assignee_id: int | None
    created_at: datetime
    queued_at: datetime | None
    claimed_at: datetime | None
    first_response_due: datetime
    first_response_at: datetime | None
    resolution_due: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None


@dataclass
class MessageCounts:
    decisions: int = 0
    answered: int = 0
    fallbacks: int = 0
    rated: int = 0
    up: int = 0


@dataclass
class Facts:
    period: Period
    filters: Filters
    buckets: list[Period]
    # (bucket, channel) -> [conversations in period scope, escalated by period end,
    #                       conversations in bucket scope, escalated by bucket end]
    conversations: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    scope_tickets: list[ScopeTicket] = field(default_factory=list)
    surveys: list[ScopeSurvey] = field(default_factory=list)
    tickets: list[PeriodTicket] = field(default_factory=list)
    reopenings: dict[int, list[datetime]] = field(default_factory=dict)
    # (bucket, channel) -> counts judged at period end, counts judged at bucket end
    messages: dict[tuple[int, str], tuple[MessageCounts, MessageCounts]] = field(default_factory=dict)


def _matching_ticket_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.category is not None:
        conditions.append(Ticket.category == filters.category)
    if filters.agent_id is not None:
        conditions.append(Ticket.assignee_id == filters.agent_id)
    return conditions


def _aware(session: Session, *columns: Any) -> list[Any]:
    """Timestamp columns as the driver returns them where that is already aware
    (psycopg on PostgreSQL), skipping the UTC-normalising type's Python call per value;
    SQLite's naive values still go through it."""
    if session.get_bind().dialect.name != "postgresql":
        return list(columns)
    return [type_coerce(column, DateTime(timezone=True)) for column in columns]


def _rows(session: Session, statement: Any) -> Sequence[Any]:
    """All rows at once: psycopg's fetchall, not one fetchone per row (0.2 s at 20k rows)."""
    return session.connection().execute(statement).all()


def _no_jit(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # JIT compilation of these plans costs more (0.5 s measured) than it saves.
        session.execute(select(func.set_config("jit", "off", True)))
        # Timestamps come back in the session's zone; in UTC psycopg gives them the fixed
        # UTC offset, which compares faster than a named zone (thousands of comparisons).
        session.execute(select(func.set_config("TimeZone", "UTC", True)))


def gather(session: Session, period: Period, filters: Filters, second: Session | None = None) -> Facts:
    """Run the queries (module doc) and return their rows; the caller owns the sessions.

    With ``second`` (another session of the same database), the ticket and bot-message
    reads run on it in a worker thread while ``session`` builds and reads the scope
    table: the two halves share nothing, and PostgreSQL then uses two cores."""
    facts = Facts(period, filters, buckets_of(period))
    if second is None:
        _read_scope(session, facts)
        _read_period_rows(session, facts)
        return facts
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard") as pool:
        other = pool.submit(_read_period_rows, second, facts)
        _read_scope(session, facts)
        other.result()
    return facts


def _read_period_rows(session: Session, facts: Facts) -> None:
    _no_jit(session)
    _read_tickets(session, facts)
    _read_messages(session, facts)


def _read_scope(session: Session, facts: Facts) -> None:
    _no_jit(session)
    scope = Table(
        f"dash_scope_{uuid.uuid4().hex[:12]}", MetaData(),
        Column("id", String(32)), Column("channel", String(16)), Column("bucket", Integer),
        Column("bucket_end", UTCDateTime()), Column("wrote", Integer),
        Column("first_ticket", UTCDateTime()), Column("first_match", UTCDateTime()),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    # Dropped when done; after an error the caller's rollback discards it with the
    # transaction (PostgreSQL), or it dies with the connection (a unique name: no clash).
    scope.create(connection)
    _fill_scope(session, scope, facts.period, facts.filters, facts.buckets)
    _read_conversations(session, scope, facts)
    _read_scope_tickets(session, scope, facts)
    _read_surveys(session, scope, facts)
    scope.drop(connection, checkfirst=False)


def _fill_scope(session: Session, scope: Table, period: Period, filters: Filters, buckets: list[Period]) -> None:
    def customer_wrote(before: Any) -> ColumnElement[bool]:
        # The earliest customer message's time, kept by a trigger (migration 0007).
        return Conversation.first_customer_message_at < before

    bucket_end = _bucket_end(Conversation.created_at, buckets)
    # 2: wrote before its bucket's end (so also before the period's end); 1: only before
    # the period's end; 0: not in scope. CASE stops at the first true branch.
    wrote = case((customer_wrote(bucket_end), 2), (customer_wrote(period.end), 1), else_=0)
    first_tickets = (
        select(Ticket.conversation_id, func.min(Ticket.created_at).label("at"))
        .where(Ticket.created_at < period.end).group_by(Ticket.conversation_id).subquery()
    )
    matching = _matching_ticket_conditions(filters)
    source = Conversation.__table__.outerjoin(first_tickets, first_tickets.c.conversation_id == Conversation.id)
    match_column: Any = literal(None, UTCDateTime())
    if matching:
        first_match = (
            select(Ticket.conversation_id, func.min(Ticket.created_at).label("at"))
            .where(Ticket.created_at < period.end, *matching).group_by(Ticket.conversation_id).subquery()
        )
        source = source.join(first_match, first_match.c.conversation_id == Conversation.id)
        match_column = first_match.c.at
    query = select(
        Conversation.id, Conversation.channel, _bucket_index(Conversation.created_at, buckets), bucket_end, wrote,
        first_tickets.c.at, match_column,
    ).select_from(source).where(in_period(Conversation.created_at, period))
    if filters.channel is not None:
        query = query.where(Conversation.channel == filters.channel)
    session.connection().execute(insert(scope).from_select(
        ["id", "channel", "bucket", "bucket_end", "wrote", "first_ticket", "first_match"], query))
    if session.get_bind().dialect.name == "postgresql":
        # Temporary tables are never auto-analysed; without statistics the joins below are
        # planned for a guessed size.
        session.connection().exec_driver_sql(f"ANALYZE {scope.name}")


def _in_bucket(scope: Table, filters: Filters) -> ColumnElement[bool]:
    """In its bucket's own scope: wrote before the bucket's end and, under a category /
    agent filter, had the matching ticket by then."""
    condition = scope.c.wrote == 2
    if _matching_ticket_conditions(filters):
        condition = and_(condition, scope.c.first_match < scope.c.bucket_end)
    return condition


def _read_conversations(session: Session, scope: Table, facts: Facts) -> None:
    in_bucket = _in_bucket(scope, facts.filters)
    escalated = scope.c.first_ticket.is_not(None)
    rows = _rows(
        session,
        select(
            scope.c.bucket, scope.c.channel, func.count(),
            func.sum(case((escalated, 1), else_=0)),
            func.sum(case((in_bucket, 1), else_=0)),
            func.sum(case((and_(in_bucket, scope.c.first_ticket < scope.c.bucket_end), 1), else_=0)),
        ).where(scope.c.wrote > 0).group_by(scope.c.bucket, scope.c.channel)
    )
    for bucket, channel, total, escalated_total, bucket_total, escalated_bucket in rows:
        facts.conversations[(int(bucket), channel)] = [
            int(total), int(escalated_total or 0), int(bucket_total or 0), int(escalated_bucket or 0)
        ]


def _read_scope_tickets(session: Session, scope: Table, facts: Facts) -> None:
    rows = _rows(
        session,
        select(
            scope.c.id, scope.c.channel, scope.c.bucket, _in_bucket(scope, facts.filters),
            *_aware(session, scope.c.bucket_end), Ticket.reason, Ticket.category, Ticket.assignee_id,
            *_aware(session, Ticket.created_at, Ticket.resolved_at), Ticket.reopen_count, Ticket.repeat_contact,
        )
        .join(Ticket, Ticket.conversation_id == scope.c.id)
        .where(scope.c.wrote > 0, Ticket.created_at < facts.period.end)
    )
    facts.scope_tickets = [
        ScopeTicket(cid, channel, int(bucket), bool(in_bucket), bucket_end, reason, category, assignee, created,
                    resolved, int(reopens or 0), bool(repeat))
        for cid, channel, bucket, in_bucket, bucket_end, reason, category, assignee, created, resolved, reopens, repeat
        in rows
    ]


def _read_surveys(session: Session, scope: Table, facts: Facts) -> None:
    rows = _rows(
        session,
        select(
            scope.c.channel, scope.c.bucket, _in_bucket(scope, facts.filters), CsatSurvey.id,
            CsatSurvey.conversation_id, *_aware(session, CsatSurvey.asked_at), CsatSurvey.rating,
            *_aware(session, CsatSurvey.rated_at), CsatSurvey.would_recommend,
        )
        .join(CsatSurvey, CsatSurvey.conversation_id == scope.c.id)
        .where(scope.c.wrote > 0, CsatSurvey.asked_at < facts.period.end)
    )
    facts.surveys = [
        ScopeSurvey(channel, int(bucket), bool(in_bucket), CsatAnswer(*answer))
        for channel, bucket, in_bucket, *answer in rows
    ]


def _read_tickets(session: Session, facts: Facts) -> None:
    cohort = tickets_in_scope(facts.period, facts.filters)
    rows = _rows(
        session,
        select(
            Ticket.conversation_id, Ticket.id, Ticket.channel, Ticket.category, Ticket.assignee_id,
            *_aware(session, Ticket.created_at, Ticket.queued_at, Ticket.claimed_at, Ticket.first_response_due,
                    Ticket.first_response_at, Ticket.resolution_due, Ticket.resolved_at, Ticket.closed_at),
            Ticket.close_reason,
        ).where(*cohort)
    )
    facts.tickets = [PeriodTicket(*row) for row in rows]
    reopenings = _rows(
        session,
        select(TicketEvent.ticket_id, *_aware(session, TicketEvent.at))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(*cohort, TicketEvent.kind == "reopened", TicketEvent.at < facts.period.end)
    )
    for ticket_id, at in reopenings:
        facts.reopenings.setdefault(ticket_id, []).append(at)


def _read_messages(session: Session, facts: Facts) -> None:
    """Bot messages of the period that carry an FAQ decision or a rating, grouped by
    bucket, channel, rule and rating (each row's JSON is read once, in the grouping);
    the sums per bucket and channel are added up here."""
    period, buckets = facts.period, facts.buckets
    rule = Message.faq_trail["rule"].as_string().label("rule")
    bucket_end = _bucket_end(Message.created_at, buckets)
    # Judged at the period's end (totals, breakdowns) and at the bucket's end (trend):
    # the rating must be given, and a filter's matching ticket exist, by then.
    in_time = case((Message.feedback_at.is_(None), 1), (Message.feedback_at < period.end, 1), else_=0)
    in_bucket_time = case((Message.feedback_at.is_(None), 1), (Message.feedback_at < bucket_end, 1), else_=0)
    query = select(
        _bucket_index(Message.created_at, buckets).label("bucket"), Message.channel.label("channel"), rule,
        Message.feedback.label("feedback"), in_time.label("in_time"), in_bucket_time.label("in_bucket_time"),
    )
    matching = _matching_ticket_conditions(facts.filters)
    if matching:
        first_match = (
            select(Ticket.conversation_id, func.min(Ticket.created_at).label("at"))
            .where(Ticket.created_at < period.end, *matching).group_by(Ticket.conversation_id).subquery()
        )
        query = query.join(first_match, first_match.c.conversation_id == Message.conversation_id)
        matched = case((first_match.c.at < bucket_end, 1), else_=0)
    else:
        matched = literal(1, Integer())
    query = query.add_columns(matched.label("matched")).where(
        Message.direction == "out", Message.author == "bot", in_period(Message.created_at, period),
        Message.faq_trail.is_not(None) | Message.feedback.is_not(None),
    )
    if facts.filters.channel is not None:
        query = query.where(Message.channel == facts.filters.channel)
    grouped = query.subquery()
    rows = _rows(
        session,
        select(*grouped.c, func.count()).group_by(*grouped.c)
    )
    for bucket, channel, rule_value, feedback, on_time, on_bucket_time, in_bucket_scope, count in rows:
        at_end, at_bucket_end = facts.messages.setdefault(
            (int(bucket), channel), (MessageCounts(), MessageCounts()))
        _count_message(at_end, rule_value, feedback if on_time else None, int(count))
        if in_bucket_scope:
            _count_message(at_bucket_end, rule_value, feedback if on_bucket_time else None, int(count))


def _count_message(counts: MessageCounts, rule: str | None, feedback: str | None, count: int) -> None:
    """Add ``count`` bot messages with this FAQ rule and (timely) rating: the formulas of
    faq_answer_rate, fallback_rate and faq_helpfulness (docs/kpis.md)."""
    if rule in FAQ_DECISION_RULES:
        counts.decisions += count
        counts.answered += count if rule in ANSWERED_RULES else 0
        counts.fallbacks += count if rule in FALLBACK_RULES else 0
    if feedback in ("up", "down"):
        counts.rated += count
        counts.up += count if feedback == "up" else 0


# Evaluation: each ticket, conversation and survey is judged once for the period and
# once for its trend bucket, then counted into every slice it belongs to -------------------


def rate(numerator: int, denominator: int, target: float | None = None, higher: bool = True) -> dict[str, Any]:
    value = numerator / denominator if denominator else None
    result: dict[str, Any] = {"numerator": numerator, "denominator": denominator, "value": value}
    if target is not None:
        result["target"] = target
        result["meets_target"] = None if value is None else (value >= target if higher else value <= target)
    return result


def durations(seconds: list[float], pending: int, target: float | None = None) -> dict[str, Any]:
    p90 = percentile(seconds, 0.9)
    result: dict[str, Any] = {
        "median_seconds": percentile(seconds, 0.5), "p90_seconds": p90, "count": len(seconds), "pending": pending,
    }
    if target is not None:
        result["target_seconds"] = target
        result["meets_target"] = None if p90 is None else p90 <= target
    return result


@dataclass
class TicketTally:
    """Ticket KPIs of one slice, filled one judged ticket at a time."""

    tickets: int = 0
    response: list[float] = field(default_factory=list)
    response_pending: int = 0
    resolution: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_response: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    waits: list[float] = field(default_factory=list)
    wait_pending: int = 0
    queued: int = 0
    abandoned: int = 0

    def add(self, judged: JudgedTicket) -> None:
        self.tickets += 1
        if judged.response == "pending":
            self.response_pending += 1
        elif isinstance(judged.response, float):
            self.response.append(judged.response)
        if judged.resolution is not None:
            self.resolution[judged.resolution] += 1
        if judged.first_response is not None:
            self.first_response[judged.first_response] += 1
        if judged.wait == "pending":
            self.wait_pending += 1
        elif isinstance(judged.wait, float):
            self.waits.append(judged.wait)
        self.queued += judged.queued
        self.abandoned += judged.abandoned

    def as_json(self, targets: DashboardTargets) -> dict[str, Any]:
        def compliance(outcomes: dict[str, int]) -> dict[str, Any]:
            result = rate(outcomes["met"], outcomes["met"] + outcomes["breached"], targets.sla_compliance)
            result["pending"] = outcomes["pending"]
            return result

        return {
            "tickets": self.tickets,
            "first_human_response_time": durations(self.response, self.response_pending, targets.first_response_seconds),
            "resolution_sla_compliance": compliance(self.resolution),
            "first_response_sla_compliance": compliance(self.first_response),
            "queue_wait": durations(self.waits, self.wait_pending),
            "abandonment_rate": rate(self.abandoned, self.queued, targets.abandonment_max, higher=False),
        }


class JudgedTicket(NamedTuple):
    response: float | str | None
    resolution: str | None
    first_response: str | None
    wait: float | str | None
    queued: bool
    abandoned: bool


def judge_ticket(t: PeriodTicket, reopenings: dict[int, list[datetime]], period: Period) -> JudgedTicket:
    """One ticket as of ``period.end``, with kpis.py's own outcome functions."""
    reopened = max((at for at in reopenings.get(t.ticket_id, ()) if at < period.end), default=None)
    queued = t.queued_at is not None and t.queued_at < period.end
    return JudgedTicket(
        first_response_time_outcome(t.created_at, reopened, t.first_response_at, t.resolved_at, t.closed_at, period),
        resolution_outcome(t.resolved_at, t.resolution_due, t.closed_at, t.close_reason, period),
        first_response_outcome(t.first_response_at, t.resolved_at, t.first_response_due, t.closed_at,
                               t.close_reason, period),
        queue_wait_outcome(t.queued_at, t.claimed_at, t.resolved_at, t.closed_at, period),
        queued,
        queued and is_abandoned(t.closed_at, t.close_reason, period),
    )


@dataclass
class ConversationTally:
    """Conversation-level KPIs that need its tickets (reasons, complaints, FCR) or its
    surveys (CSAT), for one slice."""

    conversations: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    complaints: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resolved: int = 0
    first_contact: int = 0
    surveys: list[CsatAnswer] = field(default_factory=list)

    def add(self, judged: JudgedConversation) -> None:
        for reason in judged.reasons:
            self.reasons[reason] += 1
        for category in judged.complaints:
            self.complaints[category] += 1
        self.resolved += judged.resolved
        self.first_contact += judged.first_contact

    def as_json(self, population: int, period: Period, targets: DashboardTargets) -> dict[str, Any]:
        reasons = {reason.value: 0 for reason in EscalationReason} | dict(self.reasons)
        return {
            "escalation_rate_by_reason": {r: rate(n, population) for r, n in sorted(reasons.items())},
            "complaint_rate_by_category": {k: rate(n, population) for k, n in sorted(self.complaints.items())},
            "first_contact_resolution": rate(self.first_contact, self.resolved),
            "csat": csat_kpis(self.surveys, period, targets),
        }


class JudgedConversation(NamedTuple):
    reasons: frozenset[str]
    complaints: frozenset[str]
    resolved: bool
    first_contact: bool


def judge_conversation(tickets: Sequence[ScopeTicket], end: datetime) -> JudgedConversation:
    """A conversation's tickets created before ``end``: its reasons, complaint categories
    and first-contact resolution as of ``end``."""
    counted = [t for t in tickets if t.created_at < end]
    resolved = any(t.resolved_at is not None and t.resolved_at < end for t in counted)
    only = counted[0] if len(counted) == 1 else None
    return JudgedConversation(
        frozenset(t.reason for t in counted),
        frozenset(t.category for t in counted if t.reason == EscalationReason.COMPLAINT.value),
        resolved,
        resolved and only is not None and only.reopen_count == 0 and not only.repeat_contact,
    )


def csat_kpis(answers: Iterable[CsatAnswer], period: Period, targets: DashboardTargets) -> dict[str, Any]:
    summary = summarise_csat(answers, period, with_ids=False)
    average = summary.average
    return {
        "average": average, "rated": summary.rated, "target": targets.csat_average,
        "meets_target": None if average is None else average >= targets.csat_average,
        "response_rate": rate(summary.response_rate.numerator, summary.response_rate.denominator),
        "would_recommend": rate(summary.would_recommend.numerator, summary.would_recommend.denominator),
    }


def message_kpis(counts: MessageCounts) -> dict[str, Any]:
    return {
        "faq_answer_rate": rate(counts.answered, counts.decisions),
        "fallback_rate": rate(counts.fallbacks, counts.decisions),
        "faq_helpfulness": rate(counts.up, counts.rated),
    }


def _add(total: MessageCounts, more: MessageCounts) -> None:
    total.decisions += more.decisions
    total.answered += more.answered
    total.fallbacks += more.fallbacks
    total.rated += more.rated
    total.up += more.up


def containment_kpis(conversations: int, escalated: int, targets: DashboardTargets) -> dict[str, Any]:
    return {
        "conversations": conversations,
        "containment": rate(conversations - escalated, conversations, targets.containment),
        "escalation_rate": rate(escalated, conversations),
    }


Key = tuple[str, Any]  # ("total", None), ("channel", "web"), ("category", ...), ("agent", 7), ("bucket", 3)


def _memberships(tickets: Sequence[ScopeTicket], filters: Filters, end: datetime) -> list[Key]:
    """Category and agent slices a conversation belongs to: one of its tickets (created
    before ``end``) matches the request's filters and the slice together, as Filters
    does for a category / agent filter."""
    keys: set[Key] = set()
    for t in tickets:
        if t.created_at >= end:
            continue
        if filters.agent_id is None or t.assignee_id == filters.agent_id:
            if filters.category is None or t.category == filters.category:
                keys.add(("category", t.category))
        if t.assignee_id is not None and (filters.category is None or t.category == filters.category):
            if filters.agent_id is None or t.assignee_id == filters.agent_id:
                keys.add(("agent", t.assignee_id))
    return list(keys)


def evaluate(facts: Facts, targets: DashboardTargets) -> dict[str, Any]:
    """Totals, trend and breakdowns (JSON-ready) from the gathered rows."""
    period, buckets = facts.period, facts.buckets
    starts = [bucket.start for bucket in buckets]

    # Tickets created in the period: judged at the period's end and at their bucket's end.
    ticket_tallies: dict[Key, TicketTally] = defaultdict(TicketTally)
    for t in facts.tickets:
        judged = judge_ticket(t, facts.reopenings, period)
        for key in (("total", None), ("channel", t.channel), ("category", t.category), ("agent", t.assignee_id)):
            if key[1] is not None or key[0] == "total":
                ticket_tallies[key].add(judged)
        index = bisect_right(starts, t.created_at) - 1
        ticket_tallies[("bucket", index)].add(judge_ticket(t, facts.reopenings, buckets[index]))

    # Conversations in scope that have tickets, and their surveys.
    tickets_of: dict[str, list[ScopeTicket]] = defaultdict(list)
    for st in facts.scope_tickets:
        tickets_of[st.conversation_id].append(st)
    conversation_tallies: dict[Key, ConversationTally] = defaultdict(ConversationTally)
    slices_of: dict[str, list[Key]] = {}
    for cid, items in tickets_of.items():
        first = items[0]
        at_end = judge_conversation(items, period.end)
        memberships = _memberships(items, facts.filters, period.end)
        slices_of[cid] = memberships
        for key in [("total", None), ("channel", first.channel), *memberships]:
            conversation_tallies[key].add(at_end)
        for key in memberships:
            conversation_tallies[key].conversations += 1
        if first.in_bucket:
            conversation_tallies[("bucket", first.bucket)].add(judge_conversation(items, first.bucket_end))
    for survey in facts.surveys:
        cid = survey.answer.conversation_id
        for key in [("total", None), ("channel", survey.channel), *slices_of.get(cid, [])]:
            conversation_tallies[key].surveys.append(survey.answer)
        if survey.in_bucket:
            conversation_tallies[("bucket", survey.bucket)].surveys.append(survey.answer)

    # Conversation counts and bot messages: summed from the SQL groups.
    counts: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    messages: dict[Key, MessageCounts] = defaultdict(MessageCounts)
    for (bucket, channel), (total, escalated, in_bucket, escalated_in_bucket) in facts.conversations.items():
        for key in (("total", None), ("channel", channel)):
            counts[key][0] += total
            counts[key][1] += escalated
        counts[("bucket", bucket)][0] += in_bucket
        counts[("bucket", bucket)][1] += escalated_in_bucket
    for (bucket, channel), (at_end, at_bucket_end) in facts.messages.items():
        _add(messages[("total", None)], at_end)
        _add(messages[("channel", channel)], at_end)
        _add(messages[("bucket", bucket)], at_bucket_end)

    def full(key: Key, judged_at: Period) -> dict[str, Any]:
        conversations, escalated = counts[key]
        return {
            **containment_kpis(conversations, escalated, targets),
            **conversation_tallies[key].as_json(conversations, judged_at, targets),
            **message_kpis(messages[key]),
            **ticket_tallies[key].as_json(targets),
        }

    def ticket_slice(key: Key) -> dict[str, Any]:
        tally = conversation_tallies[key]
        conversation_kpis = tally.as_json(tally.conversations, period, targets)
        return {
            "conversations": tally.conversations,
            "first_contact_resolution": conversation_kpis["first_contact_resolution"],
            "csat": conversation_kpis["csat"],
            **ticket_tallies[key].as_json(targets),
        }

    totals = full(("total", None), period)
    channels = sorted({key[1] for key in (*counts, *ticket_tallies, *messages) if key[0] == "channel"})
    categories = sorted({key[1] for key in (*ticket_tallies, *conversation_tallies) if key[0] == "category"})
    agents = sorted({key[1] for key in ticket_tallies if key[0] == "agent"})
    by_category = {category: ticket_slice(("category", category)) for category in categories}
    for category, values in by_category.items():
        values["complaint_rate"] = totals["complaint_rate_by_category"].get(
            category, rate(0, totals["conversations"]))
    trend = [
        {"start": bucket.start.isoformat(), "end": bucket.end.isoformat(), **full(("bucket", index), bucket)}
        for index, bucket in enumerate(buckets)
    ]
    return {
        "totals": totals,
        "trend": trend,
        "by_channel": {channel: full(("channel", channel), period) for channel in channels},
        "by_category": by_category,
        "by_agent": {agent: ticket_slice(("agent", agent)) for agent in agents},
    }


def agent_names(session: Session, agent_ids: Iterable[int]) -> dict[int, str]:
    wanted = list(agent_ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def compute_dashboard(
    session: Session,
    period: Period,
    filters: Filters,
    targets: DashboardTargets = DashboardTargets(),
    second: Session | None = None,
) -> dict[str, Any]:
    """The dashboard's numbers (counts, rates, durations) for ``period`` and ``filters``;
    ``second``: a further session to read on in parallel (see gather)."""
    facts = gather(session, period, filters, second)
    result = evaluate(facts, targets)
    names = agent_names(session, result["by_agent"])
    for agent_id, values in result["by_agent"].items():
        values["name"] = names.get(agent_id, f"Agent {agent_id}")
    result["bucket"] = "day" if len(facts.buckets) < 2 or facts.buckets[0].end - facts.buckets[0].start <= timedelta(days=1) else "week"
    return result
