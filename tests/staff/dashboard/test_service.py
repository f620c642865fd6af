"""The dashboard's numbers are the KPI functions' numbers: totals, every breakdown and
every trend point, on hand-built rows and on a seeded database, SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from staff.analytics import Filters, Period
from staff.dashboard.service import DashboardTargets, buckets_of, compute_dashboard
from bot.db import make_engine, make_session_factory
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK
from tests.staff.analytics.test_drilldown import build_mixed_week
from tests.staff.dashboard.kpi_reference import assert_dashboard_matches_kpis

FILTERS = [Filters(), Filters(channel="telegram"), Filters(category="billing"), Filters(agent_id=7),
           Filters(channel="web", category="orders")]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f"{f.channel}-{f.category}-{f.agent_id}")
def test_dashboard_equals_kpi_functions_on_hand_built_rows(session: Session, rows: RowBuilder, filters: Filters) -> None:
    build_mixed_week(rows)
    for period in (WEEK, Period(T0 + timedelta(days=2), T0 + timedelta(days=4))):
        dashboard = compute_dashboard(session, period, filters)
        checks = assert_dashboard_matches_kpis(session, dashboard, period, filters)
        assert checks >= len(buckets_of(period)) + 1
    unfiltered = compute_dashboard(session, WEEK, Filters())
    assert unfiltered["totals"]["conversations"] > 10 and unfiltered["totals"]["tickets"] > 5
    assert set(unfiltered["by_agent"]) == {7, 8}


def test_trend_points_are_judged_at_their_own_end(session: Session, rows: RowBuilder) -> None:
    """A conversation escalated the next day is contained on its own day's point but
    escalated in the week's total."""
    cid = rows.conversation(T0 + timedelta(hours=23))
    rows.ticket(cid, T0 + timedelta(hours=25))
    dashboard = compute_dashboard(session, WEEK, Filters())
    assert dashboard["totals"]["escalation_rate"]["numerator"] == 1
    assert dashboard["trend"][0]["containment"]["numerator"] == 1
    assert dashboard["trend"][1]["conversations"] == 0 and dashboard["trend"][1]["tickets"] == 1


def test_empty_period_gives_none_not_errors(session: Session) -> None:
    dashboard = compute_dashboard(session, WEEK, Filters())
    assert dashboard["totals"]["containment"]["value"] is None
    assert dashboard["totals"]["first_human_response_time"]["p90_seconds"] is None
    assert dashboard["totals"]["csat"]["average"] is None
    assert dashboard["by_channel"] == {} and len(dashboard["trend"]) == 7


def test_long_ranges_trend_per_week_and_targets_are_applied(session: Session, rows: RowBuilder) -> None:
    rows.conversation(T0)
    period = Period(T0, T0 + timedelta(days=90))
    dashboard = compute_dashboard(session, period, Filters(), DashboardTargets(containment=0.99))
    assert dashboard["bucket"] == "week" and len(dashboard["trend"]) == 13
    assert dashboard["totals"]["containment"]["target"] == 0.99
    assert dashboard["totals"]["containment"]["meets_target"] is True


def _seed_module():
    path = Path(__file__).resolve().parents[3] / "scripts" / "seed_support_data.py"
    spec = importlib.util.spec_from_file_location("seed_support_data", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboard_equals_kpi_functions_on_a_seeded_database(database_url: str) -> None:
    end = datetime(2026, 11, 20, tzinfo=UTC)
    _seed_module().seed(database_url, 400, 3200, 20, 7, "seeded-password-1", end=end)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            for period, filters in ((Period(end - timedelta(days=14), end), Filters()),
                                    (Period(end - timedelta(days=10), end - timedelta(days=3)), Filters(channel="web")),
                                    (Period(end - timedelta(days=14), end), Filters(category="billing"))):
                dashboard = compute_dashboard(session, period, filters)
                assert dashboard["totals"]["tickets"] > 0
                assert_dashboard_matches_kpis(session, dashboard, period, filters)
    finally:
        engine.dispose()
