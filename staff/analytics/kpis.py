"""Every KPI of the supervisor dashboard, one small function each (issue 6).

Each function takes the caller's ``Session``, a ``Period`` and optional ``Filters`` and
returns the value together with the ids of the conversations behind it, so every
number on the dashboard drills down. docs/kpis.md publishes the formulas word for word;
change both together.

Conventions (see scope.py): a period is [start, end) and is judged as of its end;
rates are None, never a division error, when nothing is counted; conversation KPIs
count conversations started in the period in which the customer wrote; ticket KPIs
count tickets created in the period. Counting happens in SQL (one narrow row per
conversation or ticket comes back), so the dashboard scales with the number of
conversations, not messages; durations and percentiles are computed in Python because
SQLite has neither interval arithmetic nor percentile_cont.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple, TypeGuard, TypeVar

from sqlalchemy import ColumnElement, Select, case, exists, func, select
from sqlalchemy.orm import Session

from staff.analytics.results import Durations, Rate, ids, percentile
from staff.analytics.scope import (
    DEFAULT_TARGETS,
    NO_FILTERS,
    Filters,
    KpiTargets,
    Period,
    before_end,
    conversation_has_matching_ticket,
    conversations_in_scope,
    in_period,
    tickets_in_scope,
)
from bot.csat.models import CsatSurvey
from bot.transcript.models import Conversation, Message
from handoff.lifecycle import CloseReason, EscalationReason
from handoff.models import Ticket, TicketEvent

T = TypeVar("T")

# faq_trail.rule values written by actions/faq.py.
ANSWERED_RULES = ("answer", "selected")
FALLBACK_RULES = ("fallback", "unknown_selection")
FAQ_DECISION_RULES = ("answer", "suggest", "fallback", "selected", "unknown_selection")


# Conversations: containment, escalation, first-contact resolution ----------------------


def _scope_with_escalation(session: Session, period: Period, filters: Filters) -> list[tuple[str, bool]]:
    scope = conversations_in_scope(period, filters).subquery()
    escalated = exists().where(Ticket.conversation_id == scope.c.id, Ticket.created_at < period.end)
    rows = session.execute(select(scope.c.id, escalated.label("escalated")))
    return [(conversation_id, bool(flag)) for conversation_id, flag in rows]


def containment(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Conversations with no ticket created before period end / conversations in scope."""
    rows = _scope_with_escalation(session, period, filters)
    contained = [cid for cid, escalated in rows if not escalated]
    return Rate(len(contained), len(rows), ids(contained), ids(cid for cid, _ in rows))


def escalation_rate(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Conversations with a ticket created before period end / conversations in scope."""
    rows = _scope_with_escalation(session, period, filters)
    escalated = [cid for cid, flag in rows if flag]
    return Rate(len(escalated), len(rows), ids(escalated), ids(cid for cid, _ in rows))


def _tickets_of_scope(period: Period, filters: Filters) -> list[ColumnElement[bool]]:
    scope = conversations_in_scope(period, filters)
    return [Ticket.conversation_id.in_(scope), Ticket.created_at < period.end]


def escalation_rate_by_reason(
    session: Session, period: Period, filters: Filters = NO_FILTERS
) -> dict[str, Rate]:
    """Per reason: conversations with a ticket opened for that reason before period end /
    conversations in scope. Every known reason is present (0 when unused)."""
    population = ids(session.scalars(conversations_in_scope(period, filters)))
    rows = session.execute(
        select(Ticket.reason, Ticket.conversation_id).where(*_tickets_of_scope(period, filters)).distinct()
    )
    by_reason: dict[str, set[str]] = {reason.value: set() for reason in EscalationReason}
    for reason, conversation_id in rows:
        by_reason.setdefault(reason, set()).add(conversation_id)
    return {
        reason: Rate(len(members), len(population), ids(members), population)
        for reason, members in sorted(by_reason.items())
    }


class _FcrTicket(NamedTuple):
    resolved_at: datetime | None
    reopen_count: int
    repeat_contact: bool


def first_contact_resolution(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Among conversations in scope with a ticket resolved before period end: those with
    exactly one ticket, never reopened and not a repeat contact."""
    rows = session.execute(
        select(Ticket.conversation_id, Ticket.resolved_at, Ticket.reopen_count, Ticket.repeat_contact).where(
            *_tickets_of_scope(period, filters)
        )
    )
    tickets: dict[str, list[_FcrTicket]] = defaultdict(list)
    for conversation_id, resolved_at, reopen_count, repeat_contact in rows:
        tickets[conversation_id].append(_FcrTicket(resolved_at, reopen_count, bool(repeat_contact)))
    resolved = {
        cid for cid, items in tickets.items() if any(_happened(t.resolved_at, period) for t in items)
    }
    first_contact = {
        cid for cid in resolved
        if len(tickets[cid]) == 1 and tickets[cid][0].reopen_count == 0 and not tickets[cid][0].repeat_contact
    }
    return Rate(len(first_contact), len(resolved), ids(first_contact), ids(resolved))


# Bot answers: FAQ answer rate, helpfulness, fallback ----------------------------------


def _faq_rule() -> ColumnElement[str]:
    rule: ColumnElement[str] = Message.faq_trail["rule"].as_string()
    return rule


def _bot_message_rate(
    session: Session,
    period: Period,
    filters: Filters,
    counted: ColumnElement[bool],
    numerator: ColumnElement[bool],
) -> Rate:
    """Bot messages created in the period matching ``counted`` (the denominator), of
    which those also matching ``numerator``; summed per conversation in SQL."""
    conditions = [
        Message.direction == "out",
        Message.author == "bot",
        in_period(Message.created_at, period),
        counted,
    ]
    if filters.channel is not None:
        conditions.append(Message.channel == filters.channel)
    matching = conversation_has_matching_ticket(Message.conversation_id, period, filters)
    if matching is not None:
        conditions.append(matching)
    rows = session.execute(
        select(
            Message.conversation_id,
            func.sum(case((numerator, 1), else_=0)),
            func.count(),
        )
        .where(*conditions)
        .group_by(Message.conversation_id)
    ).all()
    return Rate(
        numerator=sum(int(hits) for _, hits, _ in rows),
        denominator=sum(int(total) for _, _, total in rows),
        conversation_ids=ids(cid for cid, hits, _ in rows if hits),
        population_ids=ids(cid for cid, _, _ in rows),
    )


def faq_answer_rate(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Bot messages whose FAQ rule is answer or selected / bot messages with any FAQ rule
    (answer, suggest, fallback, selected, unknown_selection)."""
    rule = _faq_rule()
    return _bot_message_rate(
        session, period, filters, rule.in_(FAQ_DECISION_RULES), rule.in_(ANSWERED_RULES)
    )


def fallback_rate(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Bot messages whose FAQ rule is fallback or unknown_selection / bot messages with
    any FAQ rule."""
    rule = _faq_rule()
    return _bot_message_rate(
        session, period, filters, rule.in_(FAQ_DECISION_RULES), rule.in_(FALLBACK_RULES)
    )


def faq_helpfulness(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Bot messages rated "up" / bot messages rated "up" or "down" (the message created in
    the period, the rating given before period end)."""
    rated_in_time = Message.feedback.in_(("up", "down")) & (
        Message.feedback_at.is_(None) | (Message.feedback_at < period.end)
    )
    return _bot_message_rate(session, period, filters, rated_in_time, Message.feedback == "up")


# Tickets: response times, SLA, queue --------------------------------------------------


def _happened(moment: datetime | None, period: Period) -> TypeGuard[datetime]:
    """Set and before period end: the "as of period end" rule."""
    return moment is not None and moment < period.end


def _abandoned(closed_at: datetime | None, close_reason: str | None, period: Period) -> TypeGuard[datetime]:
    """Closed by the customer leaving the queue before period end (narrows closed_at)."""
    return close_reason == CloseReason.ABANDONED and _happened(closed_at, period)


def _durations(
    finished: Sequence[tuple[str, float]], pending: Iterable[str], target: float | None = None
) -> Durations:
    seconds = [value for _, value in finished]
    pending_ids = list(pending)
    return Durations(
        median_seconds=percentile(seconds, 0.5),
        p90_seconds=percentile(seconds, 0.9),
        count=len(seconds),
        pending=len(pending_ids),
        conversation_ids=ids(cid for cid, _ in finished),
        pending_conversation_ids=ids(pending_ids),
        target_seconds=target,
    )


# One ticket's outcome for a period: pure functions shared with the dashboard, which
# reads the same columns once and judges each ticket for several periods.

Outcome = str  # "met" | "breached" | "pending"


def first_response_time_outcome(
    created_at: datetime, reopened_at: datetime | None, first_response_at: datetime | None,
    resolved_at: datetime | None, closed_at: datetime | None, period: Period,
) -> float | str | None:
    """Seconds from cycle start to the first response, "pending", or None (left out).
    ``reopened_at``: the latest reopening before period end."""
    if _happened(first_response_at, period):
        return (first_response_at - (reopened_at or created_at)).total_seconds()
    if not (_happened(resolved_at, period) or _happened(closed_at, period)):
        return "pending"
    return None


def _overdue(due: datetime, period: Period) -> Outcome:
    """An open ticket: breached once its due time has passed as of the period's judging
    moment (its end, or now while it runs), else pending. Exactly at the due time it is
    not late yet (a response at the due time still meets it)."""
    return "breached" if due < period.as_of else "pending"


def resolution_outcome(
    resolved_at: datetime | None, due: datetime, closed_at: datetime | None, close_reason: str | None,
    period: Period,
) -> Outcome | None:
    if _happened(resolved_at, period):
        return "met" if resolved_at <= due else "breached"
    if _abandoned(closed_at, close_reason, period):
        return None
    return _overdue(due, period)


def first_response_outcome(
    first_response_at: datetime | None, resolved_at: datetime | None, due: datetime,
    closed_at: datetime | None, close_reason: str | None, period: Period,
) -> Outcome | None:
    response = first_response_at if _happened(first_response_at, period) else resolved_at
    if _happened(response, period):
        return "met" if response <= due else "breached"
    if _abandoned(closed_at, close_reason, period):
        return "breached" if closed_at > due else None
    return _overdue(due, period)


def queue_wait_outcome(
    queued_at: datetime | None, claimed_at: datetime | None, resolved_at: datetime | None,
    closed_at: datetime | None, period: Period,
) -> float | str | None:
    """Seconds queued until claimed, "pending", or None (not queued before period end,
    or closed/resolved unclaimed)."""
    if not _happened(queued_at, period):
        return None
    if _happened(claimed_at, period):
        return (claimed_at - queued_at).total_seconds()
    if not (_happened(resolved_at, period) or _happened(closed_at, period)):
        return "pending"
    return None


def is_abandoned(closed_at: datetime | None, close_reason: str | None, period: Period) -> bool:
    return _abandoned(closed_at, close_reason, period)


def first_human_response_time(
    session: Session,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    targets: KpiTargets = DEFAULT_TARGETS,
) -> Durations:
    """Tickets created in the period: first_response_at - cycle start, where cycle start
    is the latest reopening before period end, else created_at. Tickets open at period end
    without a response are pending; tickets closed or resolved without one are left out."""
    last_reopen = (
        select(TicketEvent.ticket_id, func.max(TicketEvent.at).label("at"))
        .where(TicketEvent.kind == "reopened", TicketEvent.at < period.end)
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Ticket.conversation_id, Ticket.created_at, last_reopen.c.at, Ticket.first_response_at,
            Ticket.resolved_at, Ticket.closed_at,
        )
        .outerjoin(last_reopen, last_reopen.c.ticket_id == Ticket.id)
        .where(*tickets_in_scope(period, filters))
    )
    finished: list[tuple[str, float]] = []
    pending: list[str] = []
    for cid, created_at, reopened_at, first_response_at, resolved_at, closed_at in rows:
        outcome = first_response_time_outcome(created_at, reopened_at, first_response_at, resolved_at, closed_at, period)
        if outcome == "pending":
            pending.append(cid)
        elif outcome is not None:
            finished.append((cid, outcome))
    return _durations(finished, pending, targets.first_response_seconds)


@dataclass(frozen=True)
class Compliance(Rate):
    """A Rate of met / (met + breached) plus the tickets not decided yet at period end."""

    pending: int = 0
    pending_conversation_ids: tuple[str, ...] = ()


def _compliance(
    outcomes: Iterable[tuple[str, str]], target: float
) -> Compliance:
    met: list[str] = []
    decided: list[str] = []
    pending: list[str] = []
    for cid, outcome in outcomes:
        if outcome == "pending":
            pending.append(cid)
            continue
        decided.append(cid)
        if outcome == "met":
            met.append(cid)
    return Compliance(
        numerator=len(met),
        denominator=len(decided),
        conversation_ids=ids(met),
        population_ids=ids(decided),
        target=target,
        pending=len(pending),
        pending_conversation_ids=ids(pending),
    )


def resolution_sla_compliance(
    session: Session,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    targets: KpiTargets = DEFAULT_TARGETS,
) -> Compliance:
    """Tickets created in the period. met: resolved before period end and
    resolved_at <= resolution_due. breached: resolved later than resolution_due, or not
    resolved and resolution_due < as_of (period end, or now while the period runs).
    pending: not resolved, not yet due.
    Abandoned tickets are left out. value = met / (met + breached)."""
    rows = session.execute(
        select(
            Ticket.conversation_id, Ticket.resolved_at, Ticket.resolution_due, Ticket.closed_at,
            Ticket.close_reason,
        ).where(*tickets_in_scope(period, filters))
    )
    outcomes = [
        (cid, outcome) for cid, resolved_at, due, closed_at, close_reason in rows
        if (outcome := resolution_outcome(resolved_at, due, closed_at, close_reason, period)) is not None
    ]
    return _compliance(outcomes, targets.sla_compliance)


def first_response_sla_compliance(
    session: Session,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    targets: KpiTargets = DEFAULT_TARGETS,
) -> Compliance:
    """Tickets created in the period; the response is first_response_at, else resolved_at
    (the resolution note reaches the customer). met: responded before period end and at or
    before first_response_due. breached: responded later, or not responded and due before
    as_of (period end, or now while the period runs), or abandoned after the due time.
    pending: not responded, not yet due.
    Abandoned at or before the due time: left out. value = met / (met + breached)."""
    rows = session.execute(
        select(
            Ticket.conversation_id, Ticket.first_response_at, Ticket.resolved_at,
            Ticket.first_response_due, Ticket.closed_at, Ticket.close_reason,
        ).where(*tickets_in_scope(period, filters))
    )
    outcomes = [
        (cid, outcome) for cid, first_response_at, resolved_at, due, closed_at, close_reason in rows
        if (outcome := first_response_outcome(first_response_at, resolved_at, due, closed_at, close_reason, period))
        is not None
    ]
    return _compliance(outcomes, targets.sla_compliance)


def queue_wait(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Durations:
    """Tickets created in the period and claimed before period end: claimed_at - queued_at.
    Pending: queued before period end, not claimed, not closed or resolved by then.
    Abandoned tickets are in abandonment_rate, not here."""
    rows = session.execute(
        select(
            Ticket.conversation_id, Ticket.queued_at, Ticket.claimed_at, Ticket.resolved_at,
            Ticket.closed_at,
        ).where(*tickets_in_scope(period, filters), Ticket.queued_at.is_not(None), Ticket.queued_at < period.end)
    )
    finished: list[tuple[str, float]] = []
    pending: list[str] = []
    for cid, queued_at, claimed_at, resolved_at, closed_at in rows:
        outcome = queue_wait_outcome(queued_at, claimed_at, resolved_at, closed_at, period)
        if outcome == "pending":
            pending.append(cid)
        elif outcome is not None:
            finished.append((cid, outcome))
    return _durations(finished, pending)


def abandonment_rate(session: Session, period: Period, filters: Filters = NO_FILTERS) -> Rate:
    """Tickets created in the period with close_reason abandoned and closed before period
    end / tickets created in the period that entered the queue before period end."""
    rows = session.execute(
        select(Ticket.conversation_id, Ticket.close_reason, Ticket.closed_at).where(
            *tickets_in_scope(period, filters), before_end(Ticket.queued_at, period)
        )
    ).all()
    abandoned = [cid for cid, reason, closed_at in rows if _abandoned(closed_at, reason, period)]
    return Rate(len(abandoned), len(rows), ids(abandoned), ids(cid for cid, _, _ in rows))


# Complaints ---------------------------------------------------------------------------


def complaint_rate_by_category(
    session: Session, period: Period, filters: Filters = NO_FILTERS
) -> dict[str, Rate]:
    """Per category: conversations in scope with a ticket opened for reason complaint in
    that category before period end / conversations in scope. Categories without
    complaints are absent."""
    population = ids(session.scalars(conversations_in_scope(period, filters)))
    rows = session.execute(
        select(Ticket.category, Ticket.conversation_id)
        .where(*_tickets_of_scope(period, filters), Ticket.reason == EscalationReason.COMPLAINT.value)
        .distinct()
    )
    by_category: dict[str, set[str]] = defaultdict(set)
    for category, conversation_id in rows:
        by_category[category].add(conversation_id)
    return {
        category: Rate(len(members), len(population), ids(members), population)
        for category, members in sorted(by_category.items())
    }


# CSAT (from csat_surveys) --------------------------------------------------------------


@dataclass(frozen=True)
class CsatSummary:
    average: float | None  # mean of the rated conversations' latest ratings
    rated: int
    conversation_ids: tuple[str, ...]  # rated conversations in scope
    response_rate: Rate  # rated conversations / conversations asked
    would_recommend: Rate  # answered yes / answered yes or no


class CsatAnswer(NamedTuple):
    """One survey row as CSAT reads it (shared with the dashboard's one-pass version)."""

    survey_id: int
    conversation_id: str
    asked_at: datetime
    rating: int | None
    rated_at: datetime | None
    would_recommend: bool | None


def csat_rows() -> Select[tuple[int, str, datetime, int | None, datetime | None, bool | None]]:
    return select(
        CsatSurvey.id, CsatSurvey.conversation_id, CsatSurvey.asked_at, CsatSurvey.rating,
        CsatSurvey.rated_at, CsatSurvey.would_recommend,
    )


def summarise_csat(answers: Iterable[CsatAnswer], period: Period, *, with_ids: bool = True) -> CsatSummary:
    """The CSAT formula over survey rows of conversations in scope (docs/kpis.md).
    ``with_ids=False``: counts only, the id tuples left empty (the dashboard)."""
    asked: set[str] = set()
    latest: dict[str, CsatAnswer] = {}
    for answer in answers:
        if not answer.asked_at < period.end:
            continue
        asked.add(answer.conversation_id)
        if answer.rating is None or not _happened(answer.rated_at, period):
            continue
        current = latest.get(answer.conversation_id)
        if current is None or (answer.rated_at, answer.survey_id) > (current.rated_at, current.survey_id):
            latest[answer.conversation_id] = answer
    answered = [a for a in latest.values() if a.would_recommend is not None]
    recommending = [a.conversation_id for a in answered if a.would_recommend]
    listed = ids if with_ids else _no_ids
    rated = listed(latest)
    return CsatSummary(
        average=sum(a.rating or 0 for a in latest.values()) / len(latest) if latest else None,
        rated=len(latest),
        conversation_ids=rated,
        response_rate=Rate(len(latest), len(asked), rated, listed(asked)),
        would_recommend=Rate(
            len(recommending), len(answered), listed(recommending), listed(a.conversation_id for a in answered)
        ),
    )


def _no_ids(values: Iterable[str]) -> tuple[str, ...]:
    return ()


def csat(session: Session, period: Period, filters: Filters = NO_FILTERS) -> CsatSummary:
    """Surveys (csat_surveys) of conversations in scope asked before period end. Per
    conversation, its latest rating given before period end counts (latest rated_at,
    then latest survey). average = sum of those ratings / rated conversations; response
    rate = rated conversations / asked conversations; would recommend = yes / (yes + no),
    the answer on the counted survey."""
    scope = conversations_in_scope(period, filters)
    rows = session.execute(csat_rows().where(CsatSurvey.conversation_id.in_(scope), CsatSurvey.asked_at < period.end))
    return summarise_csat((CsatAnswer(*row) for row in rows), period)


# Breakdowns ---------------------------------------------------------------------------

Kpi = Callable[[Session, Period, Filters], T]


def by_channel(session: Session, period: Period, kpi: Kpi[T], filters: Filters = NO_FILTERS) -> dict[str, T]:
    """The KPI once per channel that has conversations started in the period."""
    channels = session.scalars(
        select(Conversation.channel).where(in_period(Conversation.created_at, period)).distinct()
    )
    return {channel: kpi(session, period, replace(filters, channel=channel)) for channel in sorted(channels)}


def by_agent(session: Session, period: Period, kpi: Kpi[T], filters: Filters = NO_FILTERS) -> dict[int, T]:
    """The KPI once per agent assigned to a ticket created in the period (the ticket's
    current assignee; unassigned tickets, e.g. abandoned in the queue, belong to no agent)."""
    agents: list[int] = [agent for agent in session.scalars(
        select(Ticket.assignee_id)
        .where(in_period(Ticket.created_at, period), Ticket.assignee_id.is_not(None))
        .distinct()
    ) if agent is not None]
    return {agent: kpi(session, period, replace(filters, agent_id=agent)) for agent in sorted(agents)}
