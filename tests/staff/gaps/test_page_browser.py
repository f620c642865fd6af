"""A supervisor in headless Chromium opens /gaps, reads the clusters (customer text shown as
text), turns one into a new FAQ and watches the index rebuild finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.db import make_engine, make_session_factory
from knowledge_base.source import load_faq_dir
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.staff.gaps.conftest import Seeder
from tests.gateway_harness import Gateway, running_gateway
from tests.stack_harness import OUTPUT
from tests.staff.test_console import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

MARKUP = "<img src=x onerror=\"window.hacked=1\"> can you <b id='injected'>gift wrap</b> it"


@pytest.fixture
def gateway(tmp_path: Path, kb_copy: tuple[Path, Path]) -> Iterator[Gateway]:
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    from bot.migrate import upgrade

    upgrade(url)
    add_user(url, "super@helpline.test", "Sam Supervisor", "supervisor")
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed = Seeder(session)
        for text in ("where is my refund", "I still haven't received my refund", "where is my refund"):
            seed.turn(text, rule="fallback")
        seed.turn("can you gift wrap my order", rule="fallback")
        seed.turn(MARKUP, rule="suggest")
    engine.dispose()
    ready, stop, box = threading.Event(), threading.Event(), {}
    settings = {"faq_dir": kb_copy[0], "kb_index_dir": kb_copy[1]}

    async def serve() -> None:
        async with running_gateway(tmp_path, url, extra_settings=settings) as running:
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


def test_supervisor_turns_a_cluster_into_a_new_faq(gateway: Gateway, browser: Browser,  # noqa: F811
                                                    kb_copy: tuple[Path, Path]) -> None:
    page = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
    page.goto(gateway.url + "/gaps")
    page.get_by_label("Email").fill("super@helpline.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    clusters = page.locator(".cluster")
    expect(clusters).to_have_count(3, timeout=180_000)  # the first load also loads the model
    expect(page.get_by_role("link", name="FAQ gaps")).to_have_attribute("aria-current", "page")
    expect(clusters.first.locator("h3")).to_contain_text("refund")
    expect(clusters.first).to_contain_text("3 asked")
    expect(clusters.filter(has_text="gift wrap</b>")).to_contain_text("<b id='injected'>gift wrap</b>")
    gift = clusters.filter(has_text="can you gift wrap my order")
    assert page.locator("#injected").count() == 0 and page.evaluate("window.hacked") is None
    # The demo FAQ has phrasings that read like another FAQ: listed below the clusters.
    expect(page.locator("#overlaps-summary")).to_contain_text("sit closer to another FAQ", timeout=180_000)
    expect(page.locator("#overlap-pairs li").first).to_contain_text("share")
    assert page.locator("#overlap-phrasings tbody tr").count() > 0
    page.screenshot(path=str(OUTPUT / "gaps_page.png"), full_page=True)

    gift.get_by_role("button", name="Turn into FAQ content…").click()
    page.get_by_label("Create a new FAQ").check()
    page.get_by_label("Id", exact=True).fill("orders.gift_wrap")
    page.get_by_label("Question", exact=True).fill("Do you offer gift wrapping?")
    page.get_by_label("Category", exact=True).fill("orders")
    page.get_by_label("Answer", exact=True).fill("We do not offer gift wrapping yet.")
    page.screenshot(path=str(OUTPUT / "gaps_editor.png"))
    page.get_by_role("button", name="Save and rebuild the index").click()
    expect(page.locator("#editor-status")).to_contain_text("Index rebuilt", timeout=300_000)
    entry = {e.id: e for e in load_faq_dir(kb_copy[0])}["orders.gift_wrap"]
    assert "can you gift wrap my order" in [p.casefold() for p in entry.phrasings]
    page.screenshot(path=str(OUTPUT / "gaps_saved.png"))

    # An overlapping phrasing is moved to the FAQ it reads like, from the list.
    page.get_by_role("button", name="Close").click()
    row = page.locator("#overlap-phrasings tbody tr").first
    expect(row).to_be_visible(timeout=180_000)
    faq_id, phrasing, rival = (row.locator("td").nth(i).inner_text() for i in range(3))
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Move to {rival}").click()
    expect(page.locator("#overlaps-status")).to_contain_text("Index rebuilt", timeout=300_000)
    faqs = {e.id: e for e in load_faq_dir(kb_copy[0])}
    assert phrasing in faqs[rival].phrasings and phrasing not in faqs[faq_id].phrasings
    expect(page.locator("#overlaps-summary")).to_contain_text("sit closer to another FAQ", timeout=180_000)
    expect(page.locator("#overlap-phrasings tbody tr").first).to_be_visible()
    page.screenshot(path=str(OUTPUT / "gaps_overlap_moved.png"), full_page=True)
