"""A supervisor in headless Chromium opens the KPI dashboard over seeded traffic: cards,
trend and bar charts render with the API's numbers, the complaint spike is flagged, and
a number leads to the conversations behind it in /review."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway, running_gateway
from tests.stack_harness import OUTPUT, PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "dashboard-browser-test"


def _seed(url: str) -> None:
    spec = importlib.util.spec_from_file_location("seed_support_data", PROJECT / "scripts" / "seed_support_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.seed(url, 3000, 24000, 20, 3, PASSWORD)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """A real gateway (scripted Rasa) over a seeded SQLite database, in its own thread."""
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    _seed(url)
    ready, stop, box = threading.Event(), threading.Event(), {}

    async def serve() -> None:
        async with running_gateway(tmp_path, url) as running:
            box["gateway"] = running
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(60), "gateway did not start"
    yield box["gateway"]
    stop.set()
    thread.join(10)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def test_supervisor_reads_the_dashboard_and_drills_down(gateway: Gateway, browser: Browser) -> None:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(gateway.url + "/dashboard")
    page.get_by_label("Email").fill("supervisor@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("body[data-loaded=true]")).to_be_attached(timeout=60_000)

    api: dict[str, Any] = page.request.get(gateway.url + "/api/dashboard").json()
    totals = api["totals"]
    assert totals["conversations"] > 500
    containment = page.locator(".card[data-kpi=containment]")
    expect(containment.locator(".value")).to_have_text(_percent(totals["containment"]["value"]))
    expect(containment).to_have_class("card ok" if totals["containment"]["meets_target"] else "card bad")
    sla = page.locator(".card[data-kpi=resolution_sla_compliance] .value")
    expect(sla).to_have_text(_percent(totals["resolution_sla_compliance"]["value"]))
    expect(page.locator(".card[data-kpi=conversations] .value")).to_have_text(str(totals["conversations"]))
    # Trends: one line chart per family, each with drawn series and a point per day.
    charts = page.locator("svg.line-chart")
    assert charts.count() >= 6
    first_chart_points = charts.first.locator("circle")
    assert first_chart_points.count() >= len(api["trend"])
    assert page.locator("svg.line-chart path.series").count() >= 8
    assert page.locator("svg.line-chart line.target").count() >= 3
    assert page.locator("svg.bar-chart rect").count() >= len(totals["escalation_rate_by_reason"])
    expect(page.locator("#by-agent table tbody tr")).to_have_count(len(api["by_agent"]))
    if api["spikes"]:
        expect(page.locator("[data-spike]").first).to_contain_text(api["spikes"][0]["category"])
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)

    # The containment number drills into the conversations it counted.
    containment.locator(".value").click()
    page.wait_for_url("**/review?**", timeout=20_000)
    assert "kpi=containment" in page.url and "part=numerator" in page.url
    expect(page.locator("#drill")).to_contain_text("containment", timeout=20_000)
    expect(page.locator("#rows tr").first).to_be_visible(timeout=30_000)


def test_agent_sees_my_stats_only(gateway: Gateway, browser: Browser) -> None:  # noqa: F811
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(gateway.url + "/dashboard/me")
    page.get_by_label("Email").fill("agent1@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("body[data-loaded=true]")).to_be_attached(timeout=60_000)
    mine: dict[str, Any] = page.request.get(gateway.url + "/api/dashboard/me").json()
    assert mine["totals"]["tickets"] > 0
    expect(page.locator(".card[data-kpi=tickets] .value")).to_have_text(str(mine["totals"]["tickets"]))
    assert page.locator("svg.line-chart").count() >= 3
    assert page.locator("a[href^='/review']").count() == 0  # supervisors' pages are not linked
    nav = page.get_by_role("navigation", name="Staff pages")
    expect(nav.get_by_role("link")).to_have_count(2)
    assert page.request.get(gateway.url + "/api/dashboard").status == 403
    page.screenshot(path=str(OUTPUT / "dashboard-me.png"), full_page=True)
