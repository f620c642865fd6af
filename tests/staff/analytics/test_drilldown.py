"""Drill-down selections return exactly the ids the KPI functions return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from staff.analytics import (
    Filters,
    Period,
    abandonment_rate,
    complaint_rate_by_category,
    containment,
    csat,
    escalation_rate,
    escalation_rate_by_reason,
    fallback_rate,
    faq_answer_rate,
    faq_helpfulness,
    first_contact_resolution,
    first_human_response_time,
    first_response_sla_compliance,
    queue_wait,
    resolution_sla_compliance,
)
from staff.analytics.drilldown import DRILLDOWN_KPIS, UnknownDrilldown, drilldown_conversations, parts_of
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK

D = timedelta(days=1)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def build_mixed_week(rows: RowBuilder) -> None:
    """Every outcome each KPI distinguishes, spread over two channels, two categories and
    two agents, plus rows just outside the period."""
    end = WEEK.end
    for index in range(3):  # contained, answered and rated by the bot
        cid = rows.conversation(T0 + D * index, channel="web" if index % 2 else "telegram")
        rows.message(cid, T0 + D * index + M, rule="answer", feedback="up" if index else "down",
                     channel="web" if index % 2 else "telegram")
        rows.message(cid, T0 + D * index + 2 * M, rule="suggest", channel="web" if index % 2 else "telegram")
        rows.survey(cid, T0 + D * index + 3 * M, 5 - index, would_recommend=bool(index))
    fallback = rows.conversation(T0 + D)
    rows.message(fallback, T0 + D + M, rule="fallback")
    rows.message(fallback, T0 + D + 2 * M, rule="unknown_selection", feedback="up", feedback_at=end + H)
    rows.survey(fallback, T0 + D + 3 * M)  # asked, never rated
    rows.conversation(T0 + 2 * D, customer_wrote=False)  # not a conversation
    rows.conversation(T0 - H)  # before the period

    # Tickets: met, breached, reopened, repeat, abandoned early/late, pending, resolved after end.
    met = rows.conversation(T0 + D, channel="telegram")
    rows.ticket(met, T0 + D + M, channel="telegram", category="billing", assignee_id=7, reason="complaint",
                claimed_at=T0 + D + 2 * M, first_response_at=T0 + D + 3 * M, resolved_at=T0 + D + H)
    rows.survey(met, T0 + D + 2 * H, 2, would_recommend=False, channel="telegram")
    breached = rows.conversation(T0 + 2 * D)
    rows.ticket(breached, T0 + 2 * D, category="billing", assignee_id=8, reason="complaint",
                claimed_at=T0 + 2 * D + 10 * M, first_response_at=T0 + 2 * D + 20 * M,
                resolved_at=T0 + 4 * D)
    reopened = rows.conversation(T0 + 2 * D)
    ticket = rows.ticket(reopened, T0 + 2 * D, assignee_id=7, reopen_count=1,
                         claimed_at=T0 + 2 * D + M, first_response_at=T0 + 3 * D + 2 * M,
                         resolved_at=T0 + 3 * D + H)
    rows.event(ticket, "reopened", T0 + 3 * D)
    repeat = rows.conversation(T0 + 3 * D)
    rows.ticket(repeat, T0 + 3 * D, assignee_id=8, repeat_contact=True, claimed_at=T0 + 3 * D + M,
                resolved_at=T0 + 3 * D + 2 * H, reason="repeated_fallback")
    two_tickets = rows.conversation(T0 + 3 * D)
    rows.ticket(two_tickets, T0 + 3 * D, assignee_id=7, category="billing", reason="complaint",
                resolved_at=T0 + 3 * D + H, first_response_at=T0 + 3 * D + M, claimed_at=T0 + 3 * D + M)
    rows.ticket(two_tickets, T0 + 4 * D, category="billing", reason="complaint")
    abandoned_early = rows.conversation(T0 + 4 * D)
    rows.ticket(abandoned_early, T0 + 4 * D, closed_at=T0 + 4 * D + 2 * M, close_reason="abandoned")
    abandoned_late = rows.conversation(T0 + 4 * D, channel="telegram")
    rows.ticket(abandoned_late, T0 + 4 * D, channel="telegram", closed_at=T0 + 4 * D + H,
                close_reason="abandoned", reason="negative_feedback")
    abandoned_after_end = rows.conversation(T0 + 6 * D)
    rows.ticket(abandoned_after_end, end - H, closed_at=end + H, close_reason="abandoned")
    pending = rows.conversation(end - 2 * M)
    rows.ticket(pending, end - 2 * M, reason="bot_error")
    claimed_no_answer = rows.conversation(end - H)
    rows.ticket(claimed_no_answer, end - H, assignee_id=8, claimed_at=end - 30 * M)
    resolved_after_end = rows.conversation(end - 2 * H, channel="telegram")
    rows.ticket(resolved_after_end, end - 2 * H, channel="telegram", assignee_id=7, claimed_at=end + H,
                first_response_at=end + H, resolved_at=end + 2 * H)
    escalated_later = rows.conversation(end - H)
    rows.ticket(escalated_later, end + H)  # after the end: contained as of period end
    earlier = rows.conversation(T0 - 2 * D)
    rows.ticket(earlier, T0 - 2 * D, assignee_id=7, resolved_at=T0 + H)


def _kpi_ids(session: Session, kpi: str, part: str, period: Period, filters: Filters) -> tuple[str, ...]:
    """The ids the KPI function itself returns for ``part``."""
    name, _, key = kpi.partition(":")
    plain: dict[str, Callable[..., Any]] = {
        "containment": containment, "escalation_rate": escalation_rate,
        "first_contact_resolution": first_contact_resolution, "faq_answer_rate": faq_answer_rate,
        "fallback_rate": fallback_rate, "faq_helpfulness": faq_helpfulness,
        "abandonment_rate": abandonment_rate, "resolution_sla_compliance": resolution_sla_compliance,
        "first_response_sla_compliance": first_response_sla_compliance,
    }
    if name in plain:
        result = plain[name](session, period, filters)
    elif name == "escalation_rate_by_reason":
        result = escalation_rate_by_reason(session, period, filters)[key]
    elif name == "complaint_rate_by_category":
        by_category = complaint_rate_by_category(session, period, filters)
        if key not in by_category:
            return () if part == "numerator" else containment(session, period, filters).population_ids
        result = by_category[key]
    elif name == "csat":
        result = csat(session, period, filters).response_rate
    else:  # durations
        durations = (first_human_response_time if name == "first_human_response_time" else queue_wait)(
            session, period, filters
        )
        return {
            "numerator": durations.conversation_ids,
            "pending": durations.pending_conversation_ids,
            "population": tuple(sorted(set(durations.conversation_ids) | set(durations.pending_conversation_ids))),
        }[part]
    if part == "pending":
        return tuple(result.pending_conversation_ids)
    return tuple(result.conversation_ids if part == "numerator" else result.population_ids)


CASES = [
    *[(kpi, part) for kpi in DRILLDOWN_KPIS if ":" not in kpi and kpi not in
      ("escalation_rate_by_reason", "complaint_rate_by_category") for part in parts_of(kpi)],
    *[(f"escalation_rate_by_reason:{reason}", part) for reason in
      ("complaint", "repeated_fallback", "negative_feedback", "bot_error", "customer_request", "negative_sentiment")
      for part in ("numerator", "population")],
    *[(f"complaint_rate_by_category:{category}", part) for category in ("billing", "orders")
      for part in ("numerator", "population")],
]
FILTERS = [Filters(), Filters(channel="telegram"), Filters(category="billing"), Filters(agent_id=7)]


def test_every_kpi_and_part_is_covered() -> None:
    covered = {kpi.partition(":")[0] for kpi, _ in CASES}
    assert covered == set(DRILLDOWN_KPIS)


def test_drilldown_ids_equal_the_kpi_functions_ids(session: Session, rows: RowBuilder) -> None:
    build_mixed_week(rows)
    periods = [WEEK, Period(T0 + 2 * D, T0 + 4 * D)]  # the short one cuts tickets mid-life
    checked_nonempty = 0
    for period in periods:
        for filters in FILTERS:
            for kpi, part in CASES:
                selected = tuple(sorted(set(session.scalars(drilldown_conversations(kpi, part, period, filters)))))
                expected = _kpi_ids(session, kpi, part, period, filters)
                assert selected == expected, (kpi, part, period, filters)
                checked_nonempty += bool(expected)
    assert checked_nonempty > 100  # the fixture exercises the formulas, not empty sets


def test_drilldown_select_plugs_into_an_in_clause(session: Session, rows: RowBuilder) -> None:
    from sqlalchemy import func, select

    from bot.transcript.models import Conversation

    build_mixed_week(rows)
    subquery = drilldown_conversations("escalation_rate", "numerator", WEEK, Filters())
    count = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.id.in_(subquery)))
    assert count == escalation_rate(session, WEEK).numerator > 0


@pytest.mark.parametrize(
    ("kpi", "part", "message"),
    [
        ("nope", "numerator", "unknown kpi"),
        ("containment", "pending", "has no part"),
        ("containment", "everything", "has no part"),
        ("containment:web", "numerator", "takes no"),
        ("escalation_rate_by_reason", "numerator", "needs a reason"),
        ("escalation_rate_by_reason:moon", "numerator", "needs a reason"),
        ("complaint_rate_by_category:", "numerator", "needs a category"),
    ],
)
def test_unknown_kpi_or_part_is_refused_with_a_reason(kpi: str, part: str, message: str) -> None:
    with pytest.raises(UnknownDrilldown, match=message):
        drilldown_conversations(kpi, part, WEEK, Filters())
    assert issubclass(UnknownDrilldown, ValueError)
