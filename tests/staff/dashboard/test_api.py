"""The dashboard over real HTTP: numbers equal the KPI functions, roles on every route
(including an agent's own stats), 4xx on bad input, and audit rows for every read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from staff.analytics import Filters, Period
from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from tests.staff.analytics.builders import RowBuilder
from tests.staff.dashboard.kpi_reference import assert_dashboard_matches_kpis, reference_slice
from tests.gateway_harness import running_gateway
from tests.staff.review.conftest import Client
from tests.staff.test_console import add_user

TODAY = datetime.now(UTC).date()
DAY0 = datetime.combine(TODAY - timedelta(days=6), datetime.min.time(), UTC)  # a week up to today


@dataclass
class Desk:
    url: str
    agent_id: int
    other_agent_id: int
    supervisor: Client
    agent: Client
    admin: Client
    anonymous: Client


def build_week(url: str, agent_id: int, other_agent_id: int) -> None:
    """A few conversations, tickets (one per agent, one abandoned) and surveys this week."""
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        rows = RowBuilder(session)
        for day in range(6):
            at = DAY0 + timedelta(days=day, hours=10)
            contained = rows.conversation(at, channel="telegram" if day % 2 else "web")
            rows.message(contained, at + timedelta(minutes=1), rule="answer", feedback="up")
            rows.survey(contained, at + timedelta(minutes=2), 4 + day % 2, would_recommend=True)
            mine = rows.conversation(at + timedelta(hours=1))
            rows.ticket(mine, at + timedelta(hours=1), assignee_id=agent_id, category="billing", reason="complaint",
                        claimed_at=at + timedelta(hours=1, minutes=2),
                        first_response_at=at + timedelta(hours=1, minutes=3 + day),
                        resolved_at=at + timedelta(hours=2))
            rows.survey(mine, at + timedelta(hours=2, minutes=1), 2 + day % 3)
            theirs = rows.conversation(at + timedelta(hours=2), channel="telegram")
            rows.ticket(theirs, at + timedelta(hours=2), channel="telegram", assignee_id=other_agent_id,
                        claimed_at=at + timedelta(hours=2, minutes=1), first_response_at=at + timedelta(hours=2, minutes=20))
        gone = rows.conversation(DAY0 + timedelta(hours=3))
        rows.ticket(gone, DAY0 + timedelta(hours=3), closed_at=DAY0 + timedelta(hours=3, minutes=4),
                    close_reason="abandoned")
    engine.dispose()


@pytest.fixture
async def desk(tmp_path: Path, database_url: str) -> AsyncIterator[Desk]:
    agent_id = add_user(database_url, "agent@helpline.test", "Dana Agent", "agent")
    other_id = add_user(database_url, "other@helpline.test", "Olli Other", "agent")
    add_user(database_url, "super@helpline.test", "Sam Supervisor", "supervisor")
    add_user(database_url, "admin@helpline.test", "Ada Admin", "admin")
    build_week(database_url, agent_id, other_id)
    async with running_gateway(tmp_path, database_url) as gateway:
        clients = [Client(gateway) for _ in range(4)]
        try:
            yield Desk(database_url, agent_id, other_id,
                       await clients[0].login("super@helpline.test"), await clients[1].login("agent@helpline.test"),
                       await clients[2].login("admin@helpline.test"), clients[3])
        finally:
            for client in clients:
                await client.http.aclose()


def _period(first: date, last: date) -> Period:
    return Period(datetime.combine(first, datetime.min.time(), UTC),
                  datetime.combine(last, datetime.min.time(), UTC) + timedelta(days=1))


def _audit(url: str, action: str) -> list[AuditEntry]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
    engine.dispose()
    return entries


async def test_api_numbers_equal_the_kpi_functions_and_reads_are_audited(desk: Desk) -> None:
    first, last = TODAY - timedelta(days=6), TODAY
    for params, filters in (({}, Filters()), ({"channel": "telegram"}, Filters(channel="telegram")),
                            ({"category": "billing"}, Filters(category="billing")),
                            ({"agent": str(desk.agent_id)}, Filters(agent_id=desk.agent_id))):
        response = await desk.supervisor.get("/api/dashboard", **{"from": first.isoformat(), "to": last.isoformat(),
                                                                  **params})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["period"]["from"] == first.isoformat() and body["bucket"] == "day" and len(body["trend"]) == 7
        engine = make_engine(desk.url)
        with make_session_factory(engine)() as session:
            assert assert_dashboard_matches_kpis(session, body, _period(first, last), filters) >= 8
        engine.dispose()
    default = (await desk.admin.get("/api/dashboard")).json()
    assert default["period"] == {**default["period"], "to": TODAY.isoformat(),
                                 "from": (TODAY - timedelta(days=29)).isoformat()}
    assert default["totals"]["tickets"] == 13 and default["totals"]["abandonment_rate"]["numerator"] == 1
    assert {a["name"] for a in default["agents"]} == {"Dana Agent", "Olli Other"}
    reads = _audit(desk.url, "dashboard.read")
    assert len(reads) == 5
    assert reads[1].details == {"from": first.isoformat(), "to": last.isoformat(), "channel": "telegram",
                                "category": None, "agent": None}
    assert reads[0].actor_label == "super@helpline.test" and reads[-1].actor_label == "admin@helpline.test"


async def test_an_agent_sees_only_their_own_numbers(desk: Desk) -> None:
    response = await desk.agent.get("/api/dashboard/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == {"id": desk.agent_id, "name": "Dana Agent"}
    assert "containment" not in body["totals"] and "by_agent" not in body
    engine = make_engine(desk.url)
    with make_session_factory(engine)() as session:
        period = _period(TODAY - timedelta(days=29), TODAY)
        expected = reference_slice(session, period, Filters(agent_id=desk.agent_id))
        others = reference_slice(session, period, Filters(agent_id=desk.other_agent_id))
    engine.dispose()
    totals = body["totals"]
    assert totals["tickets"] == expected["tickets"] == 6 and others["tickets"] == 6
    assert totals["resolution_sla_compliance"]["numerator"] == expected["resolution_sla_compliance"][0]
    assert totals["first_human_response_time"]["count"] == expected["first_human_response_time"][2]
    assert totals["first_human_response_time"]["p90_seconds"] == expected["first_human_response_time"][1]
    assert (totals["csat"]["average"], totals["csat"]["rated"]) == expected["csat"][:2]
    # Another agent's numbers: refused, whatever the route.
    assert (await desk.agent.get("/api/dashboard/me", agent=str(desk.other_agent_id))).status_code == 403
    assert (await desk.agent.get("/api/dashboard", agent=str(desk.other_agent_id))).status_code == 403
    assert (await desk.agent.get("/api/dashboard/me", agent=str(desk.agent_id))).status_code == 200
    own = _audit(desk.url, "dashboard.read_own")
    assert len(own) == 2 and own[0].target_id == str(desk.agent_id)


async def test_roles_on_every_route(desk: Desk) -> None:
    for path in ("/api/dashboard", "/api/dashboard/me"):
        assert (await desk.anonymous.get(path)).status_code == 401, path
    assert (await desk.agent.get("/api/dashboard")).status_code == 403
    for user in (desk.supervisor, desk.admin):
        assert (await user.get("/api/dashboard")).status_code == 200
        assert (await user.get("/api/dashboard/me")).status_code == 200
    for path in ("/dashboard", "/dashboard/me"):
        anonymous = await desk.anonymous.get(path)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next="), path
    agent_page = await desk.agent.get("/dashboard")
    assert agent_page.status_code == 403 and 'href="/dashboard/me"' in agent_page.text
    mine = await desk.agent.get("/dashboard/me")
    assert mine.status_code == 200 and 'href="/dashboard"' not in mine.text and "Dana Agent" in mine.text
    for user in (desk.supervisor, desk.admin):
        page = await user.get("/dashboard")
        assert page.status_code == 200 and user.csrf in page.text and "__CSRF_TOKEN__" not in page.text
        for link in ('href="/console"', 'href="/review"', 'href="/dashboard"', 'href="/gaps"'):
            assert link in page.text
    assert (await desk.anonymous.get("/dashboard/static/dashboard.js")).status_code == 200
    assert (await desk.anonymous.get("/dashboard/static/routes.py")).status_code == 404


BAD_INPUT = [
    ({"from": "2026-13-01"}, "from: a day"),
    ({"to": "yesterday"}, "to: a day"),
    ({"from": "2026-11-10", "to": "2026-11-01"}, "not be before"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
    ({"channel": "Web!"}, "channel"),
    ({"category": "x" * 40}, "category"),
    ({"agent": "-3"}, "agent"),
]


async def test_bad_input_is_a_422_with_the_reason(desk: Desk) -> None:
    for params, reason in BAD_INPUT:
        response = await desk.supervisor.get("/api/dashboard", **params)
        assert response.status_code == 422 and reason in response.json()["detail"], params
        if not {"channel", "category", "agent"} & set(params):
            mine = await desk.agent.get("/api/dashboard/me", **params)
            assert mine.status_code == 422 and reason in mine.json()["detail"], params
    assert _audit(desk.url, "dashboard.read") == [] and _audit(desk.url, "dashboard.read_own") == []
