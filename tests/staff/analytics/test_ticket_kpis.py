"""First human response time, SLA compliance, queue wait and abandonment over tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from staff.analytics import (
    Filters,
    KpiTargets,
    abandonment_rate,
    by_agent,
    first_human_response_time,
    first_response_sla_compliance,
    queue_wait,
    resolution_sla_compliance,
)
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK

AT = T0 + timedelta(days=1, hours=10)
S = timedelta(seconds=1)


def test_first_human_response_time_median_p90_and_reopen_restarts_the_clock(
    session: Session, rows: RowBuilder
) -> None:
    answered = {}
    for seconds in (60, 120, 600):
        cid = rows.conversation(AT)
        rows.ticket(cid, AT, first_response_at=AT + seconds * S, status="in_progress", assignee_id=1)
        answered[seconds] = cid
    reopened = rows.conversation(AT)
    reopened_at = AT + timedelta(hours=2)
    ticket = rows.ticket(reopened, AT, first_response_at=reopened_at + 30 * S, reopen_count=1, status="in_progress")
    rows.event(ticket, "reopened", reopened_at)
    waiting = rows.conversation(AT)
    rows.ticket(waiting, AT)
    answered_after_end = rows.conversation(AT)
    rows.ticket(answered_after_end, AT, first_response_at=WEEK.end + S)
    abandoned = rows.conversation(AT)
    rows.ticket(abandoned, AT, closed_at=AT + 90 * S, close_reason="abandoned", status="closed")

    result = first_human_response_time(session, WEEK)
    # Durations 30, 60, 120, 600: median (60 + 120) / 2; p90 at rank 2.7 -> 120 + 0.7 x 480.
    assert result.count == 4
    assert result.median_seconds == 90.0
    assert result.p90_seconds == pytest.approx(456.0)
    assert result.target_seconds == 300.0 and result.meets_target is False
    assert result.pending_conversation_ids == tuple(sorted([waiting, answered_after_end]))
    assert abandoned not in result.conversation_ids + result.pending_conversation_ids
    assert first_human_response_time(session, WEEK, targets=KpiTargets(first_response_seconds=500)).meets_target


def test_resolution_sla_met_breached_pending_and_abandoned(session: Session, rows: RowBuilder) -> None:
    due = AT + timedelta(hours=8)
    cases: dict[str, dict[str, Any]] = {
        "met": dict(resolved_at=due, status="resolved"),
        "late": dict(resolved_at=due + S, status="resolved"),
        "open_past_due": dict(status="in_progress"),
        "reopened_then_met": dict(resolved_at=due - S, reopen_count=1, status="closed", close_reason="resolved"),
        "abandoned": dict(closed_at=AT + S, close_reason="abandoned", status="closed"),
    }
    cid = {name: rows.conversation(AT) for name in cases}
    for name, fields in cases.items():
        rows.ticket(cid[name], AT, resolution_due=due, **fields)
    near_end = WEEK.end - timedelta(hours=1)
    not_yet_due = rows.conversation(near_end)
    rows.ticket(not_yet_due, near_end, resolution_due=near_end + timedelta(hours=8))
    resolved_after_end = rows.conversation(near_end)
    rows.ticket(resolved_after_end, near_end, resolution_due=near_end + timedelta(hours=8), resolved_at=WEEK.end + S)

    result = resolution_sla_compliance(session, WEEK)
    assert (result.numerator, result.denominator) == (2, 4)
    assert result.value == 0.5 and result.target == 0.9 and result.meets_target is False
    assert result.conversation_ids == tuple(sorted([cid["met"], cid["reopened_then_met"]]))
    assert result.pending_conversation_ids == tuple(sorted([not_yet_due, resolved_after_end]))
    assert cid["abandoned"] not in result.population_ids
    assert resolution_sla_compliance(session, WEEK, targets=KpiTargets(sla_compliance=0.5)).meets_target is True


def test_first_response_sla_counts_resolution_as_response_and_late_abandonment_as_breach(
    session: Session, rows: RowBuilder
) -> None:
    due = AT + timedelta(minutes=5)
    cases: dict[str, dict[str, Any]] = {
        "met": dict(first_response_at=due - S),
        "late": dict(first_response_at=due + S),
        "resolved_without_reply": dict(resolved_at=due, status="resolved"),
        "unanswered_past_due": dict(),
        "abandoned_before_due": dict(closed_at=due - S, close_reason="abandoned", status="closed"),
        "abandoned_after_due": dict(closed_at=due + S, close_reason="abandoned", status="closed"),
    }
    cid = {name: rows.conversation(AT) for name in cases}
    for name, fields in cases.items():
        rows.ticket(cid[name], AT, first_response_due=due, **fields)
    near_end = WEEK.end - timedelta(minutes=2)
    not_yet_due = rows.conversation(near_end)
    rows.ticket(not_yet_due, near_end, first_response_due=near_end + timedelta(minutes=5))

    result = first_response_sla_compliance(session, WEEK)
    assert (result.numerator, result.denominator) == (2, 5)
    assert result.conversation_ids == tuple(sorted([cid["met"], cid["resolved_without_reply"]]))
    assert set(result.population_ids) == {
        cid["met"], cid["late"], cid["resolved_without_reply"], cid["unanswered_past_due"], cid["abandoned_after_due"],
    }
    assert result.pending_conversation_ids == (not_yet_due,)


def seed_queue(rows: RowBuilder) -> dict[str, str]:
    names = ("w30", "w90", "w300", "waiting", "abandoned", "claimed_after_end", "abandoned_after_end")
    c = {name: rows.conversation(AT) for name in names}
    for name, seconds, agent in (("w30", 30, 1), ("w90", 90, 2), ("w300", 300, 1)):
        rows.ticket(c[name], AT, claimed_at=AT + seconds * S, assignee_id=agent, status="assigned")
    rows.ticket(c["waiting"], AT)
    rows.ticket(c["abandoned"], AT, closed_at=AT + 60 * S, close_reason="abandoned", status="closed")
    rows.ticket(c["claimed_after_end"], AT, claimed_at=WEEK.end + S, assignee_id=1, status="assigned")
    rows.ticket(c["abandoned_after_end"], AT, closed_at=WEEK.end + S, close_reason="abandoned", status="closed")
    return c


def test_queue_wait_and_abandonment(session: Session, rows: RowBuilder) -> None:
    c = seed_queue(rows)
    wait = queue_wait(session, WEEK)
    # Waits 30, 90, 300: median 90; p90 at rank 1.8 -> 90 + 0.8 x 210.
    assert (wait.count, wait.median_seconds) == (3, 90.0)
    assert wait.p90_seconds == pytest.approx(258.0)
    still_waiting_at_end = [c["waiting"], c["claimed_after_end"], c["abandoned_after_end"]]
    assert wait.pending_conversation_ids == tuple(sorted(still_waiting_at_end))
    abandoned = abandonment_rate(session, WEEK)
    assert (abandoned.numerator, abandoned.denominator, abandoned.conversation_ids) == (1, 7, (c["abandoned"],))

    per_agent = by_agent(session, WEEK, queue_wait)
    assert {agent: (d.count, d.median_seconds, d.pending) for agent, d in per_agent.items()} == {
        1: (2, 165.0, 1), 2: (1, 90.0, 0),
    }
    assert queue_wait(session, WEEK, Filters(category="payment")).count == 0


def test_no_tickets_gives_none_everywhere(session: Session, rows: RowBuilder) -> None:
    rows.conversation(AT)  # traffic, but nobody escalated
    response = first_human_response_time(session, WEEK)
    assert (response.median_seconds, response.p90_seconds, response.count) == (None, None, 0)
    assert response.meets_target is None
    for rate in (
        resolution_sla_compliance(session, WEEK),
        first_response_sla_compliance(session, WEEK),
        abandonment_rate(session, WEEK),
    ):
        assert rate.value is None and rate.denominator == 0 and rate.meets_target is None
    assert queue_wait(session, WEEK).median_seconds is None
    assert by_agent(session, WEEK, queue_wait) == {}
