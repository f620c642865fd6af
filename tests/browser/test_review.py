"""A supervisor in headless Chromium filters the conversation list, opens a transcript,
edits its review, and the page shows customer text as text (never markup)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.db import make_engine, make_session_factory
from bot.transcript.models import Message
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway, running_gateway
from tests.staff.review.seed import T0, Seeded, seed
from tests.stack_harness import OUTPUT
from tests.staff.test_console import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FEEDBACK_PRESS = '/feedback{"helpful":"yes","faq_id":"returns_refunds.timing"}'
MARKUP = "<img src=x onerror=\"window.hacked=1\"> <b id='injected'>bold</b>"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Gateway, Seeded]]:
    """A real gateway (scripted Rasa) over a seeded SQLite database, in its own thread."""
    url = f"sqlite:///{tmp_path / 'review.db'}"
    from bot.migrate import upgrade

    upgrade(url)
    agent_id = add_user(url, "agent@helpline.test", "Dana Agent", "agent")
    add_user(url, "super@helpline.test", "Sam Supervisor", "supervisor")
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seeded = seed(session, agent_id)
        session.add(Message(conversation_id=seeded.complaint, channel="telegram", direction="in",
                            author="customer", text=MARKUP, status="answered",
                            created_at=T0 + timedelta(hours=1, minutes=6)))
        # A bot answer with feedback buttons and the customer's press (stored as its payload).
        session.add(Message(conversation_id=seeded.complaint, channel="telegram", direction="out",
                            author="bot", text="Refunds take 5 working days.", status="sent",
                            buttons=[{"title": "👍 Helpful", "payload": FEEDBACK_PRESS}],
                            created_at=T0 + timedelta(hours=1, minutes=7)))
        session.add(Message(conversation_id=seeded.complaint, channel="telegram", direction="in",
                            author="customer", text=FEEDBACK_PRESS, status="answered",
                            created_at=T0 + timedelta(hours=1, minutes=8)))
    engine.dispose()
    ready, stop, box = threading.Event(), threading.Event(), {}

    async def serve() -> None:
        async with running_gateway(tmp_path, url) as running:
            box["gateway"] = running
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(30), "gateway did not start"
    yield box["gateway"], seeded
    stop.set()
    thread.join(10)


def test_supervisor_filters_and_reviews_a_transcript(gateway: tuple[Gateway, Seeded],
                                                      browser: Browser) -> None:  # noqa: F811
    running, seeded = gateway
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(running.url + "/review")
    page.get_by_label("Email").fill("super@helpline.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    rows = page.locator("#rows tr")
    expect(rows).to_have_count(5, timeout=15_000)
    expect(page.get_by_role("link", name="Review", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_label("Outcome").select_option("escalated")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2)
    assert "outcome=escalated" in page.url
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "review-list.png"), full_page=True)
    expect(page.locator("#export-csv")).to_have_attribute("href", "/api/review/export?outcome=escalated&format=csv")
    page.get_by_label("Search messages").fill("charged twice")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("My card [card] was charged twice!")

    rows.first.get_by_role("link").click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("My card [card] was charged twice!", timeout=10_000)
    expect(transcript).to_contain_text("intent complaint 77%")
    expect(transcript).to_contain_text("claimed by Dana Agent")
    expect(transcript).to_contain_text("internal note")
    expect(transcript).to_contain_text(MARKUP)  # markup shown as text
    assert page.locator("#injected").count() == 0
    # A button press reads as the button the customer pressed; the payload stays for audit.
    pressed = transcript.locator(".msg__text", has_text="👍 Helpful")
    expect(pressed).to_have_count(1)
    expect(pressed).to_have_attribute("title", FEEDBACK_PRESS)
    expect(transcript).to_contain_text(f"payload: {FEEDBACK_PRESS}")
    assert page.evaluate("window.hacked === undefined")
    expect(page.locator("#tickets")).to_contain_text("Refunded to [iban]")
    expect(page.locator("#csat")).to_contain_text("4/5")

    page.get_by_label("Status").select_option("reviewed")
    expect(page.locator("#reviewer")).to_contain_text("Sam Supervisor")
    page.get_by_label("Add a tag").fill("Billing Error")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#tags")).to_contain_text("billing-error")
    page.get_by_label("Add a comment").fill("Refund confirmed, <i>closing</i>")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#comments")).to_contain_text("Refund confirmed, <i>closing</i>")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "review-transcript.png"), full_page=True)

    page.goto(running.url + "/review?tag=billing-error")
    expect(rows).to_have_count(1, timeout=10_000)
    expect(rows.first).to_contain_text("reviewed")
