"""The FAQ feedback buttons (titles "👍 Helpful" / "👎 Not helpful", from actions/offers.py)
on Helpline's own chat page: the thumb is an inline SVG, not an emoji glyph (Chromium
without an emoji font draws an empty box), and the button keeps its full title as its
accessible name."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.migrate import upgrade
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway, ScriptedRasa, running_gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FEEDBACK = [{"title": "👍 Helpful", "payload": '/feedback{"helpful":"yes","faq_id":"demo"}'},
            {"title": "👎 Not helpful", "payload": '/feedback{"helpful":"no","faq_id":"demo"}'}]


class FaqRasa(ScriptedRasa):
    """Answers every question like an FAQ answer with the feedback buttons."""

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        message = {"recipient_id": body["sender"], "text": f"Here is how: {body['message']}", "buttons": FEEDBACK}
        return JSONResponse({"intent": {"name": "faq", "confidence": 0.9}, "messages": [message], "rasa_ms": 1.0})


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(url)
    ready, stop, box = threading.Event(), threading.Event(), {}

    async def serve() -> None:
        async with running_gateway(tmp_path, url, rasa=FaqRasa()) as running:
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


def test_feedback_buttons_draw_svg_thumbs(gateway: Gateway, browser: Browser) -> None:  # noqa: F811
    page = browser.new_context().new_page()
    page.goto(gateway.url + "/")
    box = page.get_by_label("Your message")
    expect(box).to_be_enabled(timeout=20_000)
    box.fill("how do I cancel")
    box.press("Enter")
    helpful = page.get_by_role("button", name="👍 Helpful")
    not_helpful = page.get_by_role("button", name="👎 Not helpful")
    expect(helpful).to_be_visible(timeout=10_000)
    for button, direction, words in ((helpful, "up", "Helpful"), (not_helpful, "down", "Not helpful")):
        expect(button).to_have_text(words)  # the visible text has no emoji left to fail
        expect(button.locator(f"svg.thumb--{direction}")).to_have_count(1)
    helpful.click()
