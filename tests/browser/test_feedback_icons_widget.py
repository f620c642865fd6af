"""The FAQ feedback buttons ("👍 Helpful" / "👎 Not helpful", titles from actions/offers.py)
in Helpline's widget on a shop's site, and the customer's echo of the choice in the widget
and on the chat page: the thumb is an inline SVG and the words are text, so a Chromium
without an emoji font (no empty boxes) shows what the customer chose. No emoji code point
is left as text in those elements; the buttons keep the full title as accessible name."""

from __future__ import annotations

import re
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bot.local_stack import free_port
from tests.browser.cross_origin import CANCEL_ANSWER, THANKS, gateway_in_thread, shop_page, site
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# Emoji and pictographs, dingbats/symbols, variation selector 16, skin tones.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, str]]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with gateway_in_thread(tmp_path_factory.mktemp("icons-gateway"), allowed_origins=origin) as gateway:
        page = shop_page("Acme Shop", f'<script src="{gateway.url}/widget.js" data-title="Acme Shop" async></script>')
        with site({"index.html": page}, port=port) as served:
            yield gateway, served


def assert_icon_and_words(element: Locator, direction: str, words: str) -> None:
    expect(element.locator(f"svg.thumb--{direction}")).to_have_count(1)
    expect(element).to_have_text(words)
    text = element.evaluate("e => e.textContent")
    assert not EMOJI.search(text), f"emoji left as text: {text!r}"
    box = element.locator("svg").bounding_box()
    assert box and box["width"] >= 10 and box["height"] >= 10, box  # drawn, not an empty box


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def test_widget_buttons_and_echo_show_an_svg_thumb(shop: tuple[Gateway, str], browser: Browser) -> None:  # noqa: F811
    _, origin = shop
    page = browser.new_context().new_page()
    page.goto(origin + "/index.html")
    page.get_by_role("button", name=re.compile("^Open chat: Acme Shop")).click(timeout=15_000)
    dialog = page.get_by_role("dialog", name="Acme Shop")
    ask(page, "How do I cancel my order?")
    answer = dialog.locator(".msg--out", has_text=CANCEL_ANSWER)
    expect(answer).to_be_visible(timeout=15_000)
    helpful = answer.get_by_role("button", name="👍 Helpful")
    not_helpful = answer.get_by_role("button", name="👎 Not helpful")
    assert_icon_and_words(helpful, "up", "Helpful")
    assert_icon_and_words(not_helpful, "down", "Not helpful")

    not_helpful.click()
    echo = dialog.locator(".msg--in").last.locator(".text")
    assert_icon_and_words(echo, "down", "Not helpful")
    expect(echo.get_by_role("img", name="Thumbs down")).to_have_count(1)
    expect(dialog.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)

    # After a reload the conversation is drawn from the transcript: the same icon.
    page.reload()
    page.get_by_role("button", name=re.compile("^Open chat: Acme Shop")).click(timeout=15_000)
    expect(dialog.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)
    assert_icon_and_words(dialog.locator(".msg--in").last.locator(".text"), "down", "Not helpful")

    # What a customer types stays text, emoji included (the font stack ends with emoji fonts).
    ask(page, "👍 thanks")
    typed = dialog.locator(".msg--in").last.locator(".text")
    expect(typed).to_have_text("👍 thanks")
    expect(typed.locator("svg")).to_have_count(0)
    font = typed.evaluate("e => getComputedStyle(e).fontFamily")
    assert font.endswith('"Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji"'), font


def test_chat_page_echo_shows_an_svg_thumb(shop: tuple[Gateway, str], browser: Browser) -> None:  # noqa: F811
    gateway, _ = shop
    page = browser.new_context().new_page()
    page.goto(gateway.url + "/")
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    ask(page, "How do I cancel my order?")
    answer = page.locator(".msg--out", has_text=CANCEL_ANSWER)
    expect(answer).to_be_visible(timeout=15_000)
    answer.get_by_role("button", name="👍 Helpful").click()
    echo = page.locator(".msg--in").last.locator(".msg__text")
    assert_icon_and_words(echo, "up", "Helpful")
    expect(echo.get_by_role("img", name="Thumbs up")).to_have_count(1)
    expect(page.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)

    page.reload()  # the same conversation redrawn from the transcript
    expect(page.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=20_000)
    assert_icon_and_words(page.locator(".msg--in").last.locator(".msg__text"), "up", "Helpful")
    font = page.locator("body").evaluate("e => getComputedStyle(e).fontFamily")
    assert font.endswith('"Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji"'), font
