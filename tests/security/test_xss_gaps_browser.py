"""XSS on the FAQ gaps page: gap questions (clusters) and a new FAQ whose question, answer
and phrasings are payloads (written through the gaps API, index rebuilt), rendered in
Chromium with the same detector as tests/security/test_xss_browser.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.security.live import LiveWorld, live_world
from tests.security.test_xss_browser import HOOKS, Watch, signed_in
from tests.security.xss_payloads import PAYLOADS, SHORT
from tests.staff.gaps.conftest import Seeder, built_kb, encoder, kb_copy  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture
def world(tmp_path: Path, kb_copy: tuple[Path, Path]) -> Iterator[LiveWorld]:  # noqa: F811
    database_url = f"sqlite:///{tmp_path / 'gaps.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        seed = Seeder(session)
        for n, payload in enumerate(PAYLOADS):
            seed.turn(payload, rule="fallback" if n % 2 else "suggest", reply_text=payload)
    engine.dispose()
    settings = {"faq_dir": kb_copy[0], "kb_index_dir": kb_copy[1]}
    with live_world(tmp_path, database_url, extra_settings=settings) as w:
        yield w


def test_gap_clusters_and_faq_text_render_inert(world: LiveWorld, browser: Browser) -> None:  # noqa: F811
    sup = world.staff["supervisor"]
    report = sup.http.get("/api/gaps", timeout=300)
    assert report.status_code == 200, report.text
    stamp = report.json()["source_stamp"]
    created = sup.request("POST", "/api/gaps/faq", json={
        "id": "security.xss_probe", "question": SHORT[8], "answer": " | ".join(PAYLOADS[:40]),
        "phrasings": [p for p in SHORT[20:30] if "\t" not in p], "category": "orders", "source_stamp": stamp})
    assert created.status_code == 202, created.text
    job = created.json()["job"]["id"]
    deadline = time.monotonic() + 240
    while sup.http.get(f"/api/gaps/jobs/{job}").json()["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "index rebuild did not finish"
        time.sleep(1)
    assert sup.http.get(f"/api/gaps/jobs/{job}").json()["state"] == "done"

    watch = Watch()
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    context.add_init_script(HOOKS)
    page = signed_in(context, watch, world.url, "supervisor", "/gaps")
    expect(page.locator(".cluster").first).to_be_visible(timeout=180_000)
    expect(page.locator("#clusters")).to_contain_text("alert(", timeout=60_000)
    page.locator(".cluster").first.get_by_role("button", name="Turn into FAQ content…").click()
    page.wait_for_timeout(500)
    watch.probe(page, "gaps page with the editor open")
    context.close()
    assert watch.pages == 1
    assert not watch.problems, "\n".join(watch.problems[:30])
