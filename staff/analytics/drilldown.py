"""Drill-down: the conversations behind every dashboard number, as a SELECT of ids.

``drilldown_conversations(kpi, part, period, filters)`` returns a ``Select`` of
conversation ids that the caller plugs into its own query
(``Conversation.id.in_(...)``), so the review list pages and filters over exactly the
conversations a KPI counted without the ids ever travelling through Python. Each
selection is the SQL twin of the ids the KPI function in kpis.py returns
(``conversation_ids`` / ``population_ids`` / ``pending_conversation_ids``); the tests
in tests/staff/analytics/test_drilldown.py hold the two together on hand-built rows.

Parts: ``numerator`` (what the number counts), ``population`` (what it is counted
over) and, for the KPIs that have one, ``pending`` (clock started, not decided at
period end). For durations the numerator is the finished items (those in the
percentiles) and the population is finished + pending. Per-reason and per-category
KPIs name their key after a colon: ``escalation_rate_by_reason:complaint``,
``complaint_rate_by_category:billing``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, not_, or_, select

from staff.analytics.kpis import ANSWERED_RULES, FALLBACK_RULES, FAQ_DECISION_RULES
from staff.analytics.scope import (
    Filters,
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
from handoff.models import Ticket

PARTS = ("numerator", "population", "pending")


class UnknownDrilldown(ValueError):
    """The kpi or part names nothing that can be drilled into (a 4xx for the caller)."""


Selector = Callable[[str, str | None, Period, Filters], Select[tuple[str]]]


def _scope(period: Period, filters: Filters) -> Select[tuple[str]]:
    return conversations_in_scope(period, filters)


def _escalated(period: Period, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Ticket.conversation_id == Conversation.id, Ticket.created_at < period.end, *conditions)


def _ticket_ids(period: Period, filters: Filters, *conditions: ColumnElement[bool]) -> Select[tuple[str]]:
    return select(Ticket.conversation_id).where(*tickets_in_scope(period, filters), *conditions).distinct()


def _abandoned(period: Period) -> ColumnElement[bool]:
    return and_(Ticket.close_reason == CloseReason.ABANDONED.value, before_end(Ticket.closed_at, period))


# Conversations -------------------------------------------------------------------------


def _containment(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    if part == "numerator":
        return _scope(period, filters).where(not_(_escalated(period)))
    return _scope(period, filters)


def _escalation(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    if part == "numerator":
        return _scope(period, filters).where(_escalated(period))
    return _scope(period, filters)


def _escalation_by_reason(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    known = [reason.value for reason in EscalationReason]
    if key not in known:
        raise UnknownDrilldown(f"escalation_rate_by_reason needs a reason after ':', one of {', '.join(known)}")
    if part == "numerator":
        return _scope(period, filters).where(_escalated(period, Ticket.reason == key))
    return _scope(period, filters)


def _complaints_by_category(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    if not key:
        raise UnknownDrilldown("complaint_rate_by_category needs a category after ':'")
    if part == "numerator":
        complaint = _escalated(period, Ticket.reason == EscalationReason.COMPLAINT.value, Ticket.category == key)
        return _scope(period, filters).where(complaint)
    return _scope(period, filters)


def _first_contact_resolution(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    resolved = func.sum(case((before_end(Ticket.resolved_at, period), 1), else_=0))
    query = (
        select(Ticket.conversation_id)
        .where(Ticket.conversation_id.in_(_scope(period, filters)), Ticket.created_at < period.end)
        .group_by(Ticket.conversation_id)
    )
    if part == "numerator":
        repeat = func.max(case((Ticket.repeat_contact.is_(True), 1), else_=0))
        return query.having(resolved > 0, func.count() == 1, func.max(Ticket.reopen_count) == 0, repeat == 0)
    return query.having(resolved > 0)


# Bot answers ---------------------------------------------------------------------------


def _bot_messages(period: Period, filters: Filters, *conditions: ColumnElement[bool]) -> Select[tuple[str]]:
    where = [Message.direction == "out", Message.author == "bot", in_period(Message.created_at, period), *conditions]
    if filters.channel is not None:
        where.append(Message.channel == filters.channel)
    matching = conversation_has_matching_ticket(Message.conversation_id, period, filters)
    if matching is not None:
        where.append(matching)
    return select(Message.conversation_id).where(*where).distinct()


def _rule() -> ColumnElement[str]:
    rule: ColumnElement[str] = Message.faq_trail["rule"].as_string()
    return rule


def _faq_answer(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    counted = _rule().in_(ANSWERED_RULES if part == "numerator" else FAQ_DECISION_RULES)
    return _bot_messages(period, filters, counted)


def _fallback(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    counted = _rule().in_(FALLBACK_RULES if part == "numerator" else FAQ_DECISION_RULES)
    return _bot_messages(period, filters, counted)


def _helpfulness(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    in_time = or_(Message.feedback_at.is_(None), Message.feedback_at < period.end)
    if part == "numerator":
        return _bot_messages(period, filters, Message.feedback == "up", in_time)
    return _bot_messages(period, filters, Message.feedback.in_(("up", "down")), in_time)


# Tickets -------------------------------------------------------------------------------


def _first_response_time(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    finished = before_end(Ticket.first_response_at, period)
    pending = and_(
        not_(finished), not_(before_end(Ticket.resolved_at, period)), not_(before_end(Ticket.closed_at, period))
    )
    chosen = {"numerator": finished, "pending": pending, "population": or_(finished, pending)}[part]
    return _ticket_ids(period, filters, chosen)


def _resolution_sla(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    resolved = before_end(Ticket.resolved_at, period)
    open_owed = and_(not_(resolved), not_(_abandoned(period)))
    met = and_(resolved, Ticket.resolved_at <= Ticket.resolution_due)
    breached = or_(
        and_(resolved, Ticket.resolved_at > Ticket.resolution_due),
        and_(open_owed, Ticket.resolution_due < period.as_of),
    )
    pending = and_(open_owed, Ticket.resolution_due >= period.as_of)
    chosen = {"numerator": met, "pending": pending, "population": or_(met, breached)}[part]
    return _ticket_ids(period, filters, chosen)


def _first_response_sla(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    responded_first = before_end(Ticket.first_response_at, period)
    responded = or_(responded_first, before_end(Ticket.resolved_at, period))
    response = case((responded_first, Ticket.first_response_at), else_=Ticket.resolved_at)
    abandoned = and_(not_(responded), _abandoned(period))
    open_owed = and_(not_(responded), not_(_abandoned(period)))
    met = and_(responded, response <= Ticket.first_response_due)
    breached = or_(
        and_(responded, response > Ticket.first_response_due),
        and_(abandoned, Ticket.closed_at > Ticket.first_response_due),
        and_(open_owed, Ticket.first_response_due < period.as_of),
    )
    pending = and_(open_owed, Ticket.first_response_due >= period.as_of)
    chosen = {"numerator": met, "pending": pending, "population": or_(met, breached)}[part]
    return _ticket_ids(period, filters, chosen)


def _queue_wait(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    claimed = before_end(Ticket.claimed_at, period)
    pending = and_(
        not_(claimed), not_(before_end(Ticket.resolved_at, period)), not_(before_end(Ticket.closed_at, period))
    )
    chosen = {"numerator": claimed, "pending": pending, "population": or_(claimed, pending)}[part]
    return _ticket_ids(period, filters, before_end(Ticket.queued_at, period), chosen)


def _abandonment(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    queued = before_end(Ticket.queued_at, period)
    if part == "numerator":
        return _ticket_ids(period, filters, queued, _abandoned(period))
    return _ticket_ids(period, filters, queued)


# CSAT ----------------------------------------------------------------------------------


def _csat(part: str, key: str | None, period: Period, filters: Filters) -> Select[tuple[str]]:
    """numerator: conversations in scope with a rating given before period end;
    population: conversations in scope asked before period end (response rate)."""
    conditions = [CsatSurvey.conversation_id == Conversation.id, CsatSurvey.asked_at < period.end]
    if part == "numerator":
        conditions += [CsatSurvey.rating.is_not(None), before_end(CsatSurvey.rated_at, period)]
    return _scope(period, filters).where(exists().where(*conditions))


# Registry ------------------------------------------------------------------------------

_WITH_PENDING = {"first_human_response_time", "resolution_sla_compliance", "first_response_sla_compliance", "queue_wait"}
_KEYED = {"escalation_rate_by_reason", "complaint_rate_by_category"}

_SELECTORS: dict[str, Selector] = {
    "containment": _containment,
    "escalation_rate": _escalation,
    "escalation_rate_by_reason": _escalation_by_reason,
    "first_contact_resolution": _first_contact_resolution,
    "faq_answer_rate": _faq_answer,
    "fallback_rate": _fallback,
    "faq_helpfulness": _helpfulness,
    "first_human_response_time": _first_response_time,
    "resolution_sla_compliance": _resolution_sla,
    "first_response_sla_compliance": _first_response_sla,
    "queue_wait": _queue_wait,
    "abandonment_rate": _abandonment,
    "complaint_rate_by_category": _complaints_by_category,
    "csat": _csat,
}

DRILLDOWN_KPIS: tuple[str, ...] = tuple(_SELECTORS)


def parts_of(kpi: str) -> tuple[str, ...]:
    """The parts a KPI (base name, without ':key') can be drilled into."""
    return PARTS if kpi in _WITH_PENDING else PARTS[:2]


def drilldown_conversations(kpi: str, part: str, period: Period, filters: Filters) -> Select[tuple[str]]:
    """A SELECT of the conversation ids behind ``part`` of ``kpi`` (see module doc).

    Raises UnknownDrilldown for an unknown kpi, part or reason, or a missing key."""
    name, _, key = kpi.partition(":")
    selector = _SELECTORS.get(name)
    if selector is None:
        raise UnknownDrilldown(f"unknown kpi {kpi!r}; known: {', '.join(DRILLDOWN_KPIS)}")
    if key and name not in _KEYED:
        raise UnknownDrilldown(f"kpi {name!r} takes no ':' key")
    if part not in parts_of(name):
        raise UnknownDrilldown(f"kpi {name!r} has no part {part!r}; parts: {', '.join(parts_of(name))}")
    return selector(part, key or None, period, filters)
