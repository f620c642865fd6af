"""The dashboard on a period that is still running (its default: the last 30 days up to
tomorrow 00:00) agrees with the KPI functions, and a ticket not yet due is pending on both
SLA cards and on the first-response card (issue 18)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from staff.analytics import Filters
from staff.dashboard.service import buckets_of, compute_dashboard
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.test_sla_as_of import NOW, RUNNING, US
from tests.staff.dashboard.kpi_reference import assert_dashboard_matches_kpis


def test_a_ticket_opened_90_seconds_ago_is_pending_not_breached(session: Session, rows: RowBuilder) -> None:
    answered = rows.conversation(NOW - timedelta(hours=1))
    rows.ticket(answered, NOW - timedelta(hours=1), first_response_at=NOW - timedelta(minutes=58))
    fresh = rows.conversation(NOW - timedelta(seconds=90))
    rows.ticket(fresh, NOW - timedelta(seconds=90))  # first response due in 3.5 minutes
    dashboard = compute_dashboard(session, RUNNING, Filters())
    sla = dashboard["totals"]["first_response_sla_compliance"]
    assert (sla["numerator"], sla["denominator"], sla["pending"], sla["value"]) == (1, 1, 1, 1.0)
    assert dashboard["totals"]["first_human_response_time"]["pending"] == 1
    today = dashboard["trend"][3]
    assert today["first_response_sla_compliance"]["pending"] == 1
    assert_dashboard_matches_kpis(session, dashboard, RUNNING, Filters())


def test_dashboard_and_kpis_agree_around_due_times_in_a_running_period(session: Session, rows: RowBuilder) -> None:
    for offset in (US, timedelta(0), -US, -timedelta(hours=30)):
        created = NOW - timedelta(hours=40) if offset < -timedelta(hours=1) else NOW - timedelta(minutes=3)
        cid = rows.conversation(created, channel="telegram" if offset else "web")
        rows.ticket(cid, created, first_response_due=NOW + offset, resolution_due=NOW + offset)
    at_due = rows.conversation(NOW - timedelta(hours=2))
    rows.ticket(at_due, NOW - timedelta(hours=2), first_response_due=NOW - timedelta(hours=1),
                first_response_at=NOW - timedelta(hours=1), resolution_due=NOW - timedelta(minutes=5),
                resolved_at=NOW - timedelta(minutes=5), status="resolved")
    for filters in (Filters(), Filters(channel="telegram")):
        dashboard = compute_dashboard(session, RUNNING, filters)
        checks = assert_dashboard_matches_kpis(session, dashboard, RUNNING, filters)
        assert checks >= len(buckets_of(RUNNING)) + 1
    totals = compute_dashboard(session, RUNNING, Filters())["totals"]
    # Due just after now and exactly now: pending; due just before now and 30 h ago: breached.
    for kpi in ("first_response_sla_compliance", "resolution_sla_compliance"):
        assert (totals[kpi]["numerator"], totals[kpi]["denominator"], totals[kpi]["pending"]) == (1, 3, 2), kpi
