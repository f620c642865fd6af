"""KPI dashboard pages and JSON API (issue 6).

- ``GET /api/dashboard?from=&to=&channel=&category=&agent=`` and ``GET /dashboard``:
  supervisors and admins. ``from`` / ``to`` are days (YYYY-MM-DD, ``to`` inclusive,
  UTC), default the last 30 days up to today; bad dates, an empty or over-a-year range
  and malformed filters get a 422 with the reason.
- ``GET /api/dashboard/me`` and ``GET /dashboard/me``: any signed-in user's own numbers
  (tickets assigned to them). There is no parameter naming another agent: asking for
  one is a 403.

Every read is audit-logged (``dashboard.read`` / ``dashboard.read_own``). The numbers
come from staff/dashboard/service.py (one scope table per request); the complaint-spike
check runs at the same time on its own connection.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from staff.analytics import Filters, Period, SpikeRule, detect_complaint_spikes
from staff.auth.components import AuthComponents
from staff.auth.dependencies import AuthenticatedUser
from staff.pages import forbidden_page, page_response, security_headers
from staff.dashboard.service import MAX_RANGE_DAYS, DashboardTargets, compute_dashboard
from bot.http_types import InputError, calendar_day
from bot.settings import Settings

logger = logging.getLogger(__name__)

STATIC = files("staff") / "dashboard" / "static"
DEFAULT_DAYS = 30
_CHANNEL = re.compile(r"^[a-z_]{1,16}$")
_CATEGORY = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
# The agent's own page shows these; the rest (containment, FAQ...) is not theirs.
OWN_KEYS = ("tickets", "first_human_response_time", "resolution_sla_compliance", "first_response_sla_compliance",
            "first_contact_resolution", "csat", "queue_wait")
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# Scripts and styles from our own origin only; the charts are inline SVG built by the script.
PAGE_HEADERS = security_headers(inline_styles=True, no_store=False)


def targets_from(settings: Settings) -> DashboardTargets:
    return DashboardTargets(
        sla_compliance=settings.kpi_target_sla_compliance,
        first_response_seconds=settings.kpi_target_first_response_seconds,
        containment=settings.kpi_target_containment,
        csat_average=settings.kpi_target_csat,
        abandonment_max=settings.kpi_target_abandonment,
    )


def _day(name: str, raw: str) -> date:
    # Days outside 1970..9000 are refused (to=9999-12-31 + 1 day overflowed into a 500).
    try:
        return calendar_day(name, raw)
    except InputError as exc:
        raise HTTPException(422, detail=str(exc)) from None


def parse_period(params: dict[str, str], today: date) -> tuple[Period, date, date]:
    """[from 00:00, to + 1 day 00:00) UTC; default the last 30 days including today."""
    last = _day("to", params["to"]) if params.get("to") else today
    first = _day("from", params["from"]) if params.get("from") else last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise HTTPException(422, detail="to must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise HTTPException(422, detail=f"at most {MAX_RANGE_DAYS} days at once")
    start = datetime.combine(first, time(), UTC)
    return Period(start, datetime.combine(last, time(), UTC) + timedelta(days=1)), first, last


def parse_filters(params: dict[str, str]) -> Filters:
    channel = params.get("channel") or None
    if channel is not None and not _CHANNEL.fullmatch(channel):
        raise HTTPException(422, detail="channel: lowercase letters, e.g. web or telegram")
    category = params.get("category") or None
    if category is not None and not _CATEGORY.fullmatch(category):
        raise HTTPException(422, detail="category: letters, digits, _ . - (at most 32)")
    agent = params.get("agent") or None
    if agent is not None and (not agent.isdigit() or len(agent) > 9):
        raise HTTPException(422, detail="agent: a user id")
    return Filters(channel=channel, category=category, agent_id=int(agent) if agent else None)


def _spikes_json(session: Session, period: Period, filters: Filters, rule: SpikeRule) -> list[dict[str, Any]]:
    return [
        {
            "category": spike.category,
            "latest": {"numerator": spike.latest.numerator, "denominator": spike.latest.denominator,
                       "value": spike.latest.value},
            "baseline_rate": spike.baseline_rate,
            "latest_from": spike.latest_period.start.isoformat(),
            "latest_to": spike.latest_period.end.isoformat(),
        }
        for spike in detect_complaint_spikes(session, period.end, rule, filters)
    ]


def build_dashboard_router(
    auth: AuthComponents,
    sessions: sessionmaker[Session],
    targets: DashboardTargets = DashboardTargets(),
    *,
    spike_rule: SpikeRule = SpikeRule(),
    today: Callable[[], date] = lambda: datetime.now(UTC).date(),
) -> APIRouter:
    router = APIRouter()
    supervisor = auth.require_roles("supervisor")
    anyone = auth.require_roles("agent")

    def read(work: Callable[[Session], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with sessions() as session:
                try:
                    return work(session)
                finally:
                    session.rollback()  # read-only; also ends the scope table's transaction

        return run

    async def numbers(period: Period, filters: Filters, with_spikes: bool) -> dict[str, Any]:
        results: dict[str, Any] = {}

        def both(session: Session) -> dict[str, Any]:
            with sessions() as second:
                try:
                    return compute_dashboard(session, period, filters, targets, second)
                finally:
                    second.rollback()

        async def dashboard() -> None:
            results["dashboard"] = await anyio.to_thread.run_sync(read(both))

        async def spikes() -> None:
            results["spikes"] = await anyio.to_thread.run_sync(
                read(lambda s: _spikes_json(s, period, filters, spike_rule)))

        async with anyio.create_task_group() as group:
            group.start_soon(dashboard)
            if with_spikes:
                group.start_soon(spikes)
        return results

    def period_json(first: date, last: date, period: Period) -> dict[str, Any]:
        return {"from": first.isoformat(), "to": last.isoformat(),
                "start": period.start.isoformat(), "end": period.end.isoformat()}

    @router.get("/api/dashboard", tags=["dashboard"])
    async def dashboard_api(request: Request, user: AuthenticatedUser = Depends(supervisor)) -> JSONResponse:
        """Every KPI for the period and filters: totals against targets, the trend (per
        day, per week beyond 62 days), breakdowns per channel, category and agent, and
        flagged complaint spikes. Counts only; drill down via /api/review/conversations."""
        params = dict(request.query_params)
        period, first, last = parse_period(params, today())
        filters = parse_filters(params)
        results = await numbers(period, filters, with_spikes=True)
        await auth.audit.record(
            "dashboard.read", actor=user.actor, target_type="dashboard",
            details={"from": first.isoformat(), "to": last.isoformat(), "channel": filters.channel,
                     "category": filters.category, "agent": filters.agent_id},
        )
        agents = await auth.users.run(auth.users.list)
        # Plain JSON (numbers, strings, None): skip FastAPI's generic encoder.
        return JSONResponse({
            "period": period_json(first, last, period),
            "filters": {"channel": filters.channel, "category": filters.category, "agent": filters.agent_id},
            **results["dashboard"],
            "spikes": results["spikes"],
            "agents": [{"id": a.id, "name": a.display_name} for a in agents if a.role == "agent"],
        })

    @router.get("/api/dashboard/me", tags=["dashboard"])
    async def my_dashboard_api(request: Request, user: AuthenticatedUser = Depends(anyone)) -> dict[str, Any]:
        """The caller's own numbers: tickets assigned to them created in the period, their
        response times and SLA compliance, and CSAT of conversations they handled."""
        params = dict(request.query_params)
        if params.get("agent") not in (None, "", str(user.id)):
            raise HTTPException(403, detail="my stats are your own; supervisors use /api/dashboard")
        period, first, last = parse_period(params, today())
        filters = Filters(agent_id=user.id)
        results = await numbers(period, filters, with_spikes=False)
        await auth.audit.record(
            "dashboard.read_own", actor=user.actor, target_type="user", target_id=user.id,
            details={"from": first.isoformat(), "to": last.isoformat()},
        )
        full = results["dashboard"]
        return {
            "period": period_json(first, last, period),
            "agent": {"id": user.id, "name": user.display_name},
            "bucket": full["bucket"],
            "totals": {key: full["totals"][key] for key in OWN_KEYS},
            "trend": [{"start": p["start"], "end": p["end"], **{key: p[key] for key in OWN_KEYS}}
                      for p in full["trend"]],
        }

    def page(name: str, user: AuthenticatedUser, *, supervisors_only: bool) -> HTMLResponse:
        if supervisors_only and not user.has_role("supervisor"):
            return forbidden_page(user, what="The KPI dashboard", stylesheet="/dashboard/static/dashboard.css",
                                  links=[("/dashboard/me", "My stats"), ("/console", "Console")],
                                  headers=PAGE_HEADERS)
        return page_response(STATIC / name, user, PAGE_HEADERS)

    # Pages depend on the signed-in user only (anonymous: the login redirect) and answer
    # an agent on /dashboard with a page pointing to their own stats.
    @router.get("/dashboard", include_in_schema=False)
    async def dashboard_page(user: AuthenticatedUser = Depends(auth.current_user)) -> HTMLResponse:
        return page("dashboard.html", user, supervisors_only=True)

    @router.get("/dashboard/me", include_in_schema=False)
    async def my_dashboard_page(user: AuthenticatedUser = Depends(auth.current_user)) -> HTMLResponse:
        return page("me.html", user, supervisors_only=False)

    @router.get("/dashboard/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, detail="no such file")
        return Response((STATIC / name).read_text(), media_type=ASSETS[name],
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    return router
