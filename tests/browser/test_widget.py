"""Helpline's own widget (/widget.js) on a shop's website, served from another origin.

What a customer sees: the launcher, the shop's name and greeting, answers and buttons,
the conversation after a reload and in another tab, the unread badge, the length warning,
the phone layout, the keyboard; and a site the operator did not allow gets no chat.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.cross_origin import (
    CANCEL_ANSWER, THANKS, gateway_in_thread, shop_page, site,
)
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway
from tests.stack_harness import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

GREETING = "Hello from Acme! Ask me anything about your order."


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, str, str]]:
    """(gateway, an allowed shop origin, a shop origin the operator did not allow)."""
    from bot.local_stack import free_port

    allowed_port = free_port()
    allowed = f"http://127.0.0.1:{allowed_port}"
    settings = {"allowed_origins": allowed, "widget_title": "Acme help", "widget_color": "#0a7d3b",
                "widget_greeting": GREETING}
    with gateway_in_thread(tmp_path_factory.mktemp("widget-gateway"), **settings) as gateway:
        snippet = f'<script src="{gateway.url}/widget.js" data-title="Acme Shop" async></script>'
        page = shop_page("Acme Shop", snippet)
        with site({"index.html": page, "other.html": page}, port=allowed_port) as origin, \
                site({"index.html": page}) as refused:
            assert origin == allowed
            yield gateway, origin, refused


def open_widget(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Open chat: Acme Shop")).click()
    expect(page.get_by_role("dialog", name="Acme Shop")).to_be_visible()


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def test_a_customer_chats_on_the_shops_site(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    gateway, origin, _ = shop
    context = browser.new_context()
    page = context.new_page()
    page.goto(origin + "/index.html")
    launcher = page.get_by_role("button", name="Open chat: Acme Shop")
    expect(launcher).to_be_visible(timeout=15_000)
    # data-color was not given: the operator's colour; the page's yellow buttons stay out.
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 125, 59)"
    expect(page.get_by_role("dialog")).to_be_hidden()

    launcher.click()
    dialog = page.get_by_role("dialog", name="Acme Shop")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(dialog.locator(".msg--out").first).to_have_text(re.compile(re.escape(GREETING)))
    assert dialog.locator(".msg--out").first.evaluate("m => getComputedStyle(m).fontFamily") != "serif"

    ask(page, "How do I cancel my order?")
    answer = dialog.locator(".msg--out", has_text=CANCEL_ANSWER)
    expect(answer).to_be_visible(timeout=15_000)
    helpful = answer.get_by_role("button", name="👍 Helpful")
    expect(helpful).to_be_visible()
    expect(answer.get_by_role("button", name="👎 Not helpful")).to_be_visible()
    helpful.click()
    # The echo draws the thumb as an SVG (no emoji font needed): tests/browser/test_feedback_icons_widget.py
    expect(dialog.locator(".msg--in").last).to_have_text(re.compile("Helpful"))
    expect(dialog.locator(".msg--in").last.locator("svg.thumb--up")).to_have_count(1)
    expect(dialog.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)

    # HTML typed by a customer is text.
    ask(page, "<img src=x onerror=window.pwned=1>")
    expect(dialog.locator(".msg--out", has_text="echo: <img src=x onerror=window.pwned=1>")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.pwned === undefined")

    # Keyboard: Escape closes and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(OUTPUT) / "widget.png"))

    # A reload, and another tab of the shop, show the same conversation.
    page.reload()
    open_widget(page)
    expect(page.locator(".msg--in").first).to_have_text(re.compile("How do I cancel my order"), timeout=15_000)
    expect(page.locator(".msg--out", has_text=CANCEL_ANSWER)).to_be_visible()
    other = context.new_page()
    other.goto(origin + "/other.html")
    open_widget(other)
    expect(other.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)
    ask(other, "and from the second tab?")
    expect(other.locator(".msg--out", has_text="echo: and from the second tab?")).to_be_visible(timeout=15_000)
    page.bring_to_front()
    expect(page.locator(".msg--out", has_text="echo: and from the second tab?")).to_be_visible(timeout=15_000)
    context.close()


def test_a_reply_while_closed_shows_an_unread_badge(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    _, origin, _ = shop
    context = browser.new_context()
    page = context.new_page()
    page.goto(origin + "/index.html")
    open_widget(page)
    ask(page, "slow:2 where is my parcel?")
    page.get_by_role("button", name="Close chat", exact=True).click()
    launcher = page.get_by_role("button", name="Open chat: Acme Shop, 1 unread message")
    expect(launcher).to_be_visible(timeout=15_000)
    expect(launcher.locator(".badge")).to_have_text("1")
    # Still unread after a reload; read once the chat is opened.
    page.reload()
    expect(page.get_by_role("button", name="Open chat: Acme Shop, 1 unread message")).to_be_visible(timeout=15_000)
    open_widget(page)
    expect(page.locator(".msg--out", has_text="echo: slow:2 where is my parcel?")).to_be_visible()
    page.get_by_role("button", name="Close chat", exact=True).click()
    expect(page.get_by_role("button", name="Open chat: Acme Shop", exact=True)).to_be_visible()
    expect(page.locator(".badge")).to_be_hidden()
    context.close()


def test_the_length_limit_is_announced_before_sending(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    gateway, origin, _ = shop
    page = browser.new_context().new_page()
    page.goto(origin + "/index.html")
    open_widget(page)
    box = page.get_by_label("Your message")
    box.fill("a" * 3700)
    expect(page.get_by_text("3700 of 4000 characters.")).to_be_visible()
    box.fill("a" * 4001)
    expect(page.get_by_text("Too long: 4001 of 4000 characters. Please shorten it by 1 to send.")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    box.press("Enter")
    expect(box).to_have_value("a" * 4001)  # nothing cut, nothing sent
    assert page.locator(".msg--in").count() == 0
    box.fill("a" * 10)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    expect(page.get_by_text(re.compile("of 4000 characters"))).to_be_hidden()
    page.context.close()


def test_on_a_phone_the_open_chat_fills_the_screen(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    _, origin, _ = shop
    context: BrowserContext = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(origin + "/index.html")
    open_widget(page)
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667)
    page.get_by_role("button", name="Send").click(trial=True, timeout=5_000)  # nothing covers it
    # Modal on a phone: Tab cycles inside the chat.
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "true"
    page.get_by_role("button", name="Close chat", exact=True).focus()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Close chat", exact=True)).to_be_focused()
    ask(page, "How do I cancel my order?")
    expect(page.locator(".msg--out", has_text=CANCEL_ANSWER)).to_be_visible(timeout=15_000)
    page.screenshot(path=str(Path(OUTPUT) / "widget-phone.png"))
    page.get_by_role("button", name="Close chat", exact=True).click()
    expect(page.get_by_role("button", name="Open chat: Acme Shop", exact=True)).to_be_focused()
    context.close()


def test_a_site_the_operator_did_not_allow_gets_no_chat(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    gateway, _, refused = shop
    page = browser.new_context().new_page()
    page.goto(refused + "/index.html")
    calls_before = len(gateway.rasa.calls)
    open_widget(page)
    expect(page.get_by_role("status")).to_have_text("The chat can't be reached from this page right now.", timeout=15_000)
    ask(page, "How do I cancel my order?")
    page.wait_for_timeout(1500)
    expect(page.locator(".msg--in.msg--pending")).to_have_count(1)  # never acknowledged
    expect(page.locator(".msg--out", has_text=CANCEL_ANSWER)).to_have_count(0)
    assert len(gateway.rasa.calls) == calls_before
    page.context.close()


def test_the_customer_sees_the_agent_join_type_and_leave(shop: tuple[Gateway, str, str], browser: Browser) -> None:  # noqa: F811
    """Through the real agent console: claim, type (console.js signals it), reply, hand back."""
    from tests.staff.test_console import PASSWORD, add_user

    gateway, origin, _ = shop
    add_user(gateway.settings.database_url, "ana.widget@example.com", "Ana")
    page = browser.new_context().new_page()
    page.goto(origin + "/index.html")
    open_widget(page)
    ask(page, "human please, my parcel is lost")
    expect(page.locator(".msg--system", has_text="ticket number is HL-")).to_be_visible(timeout=15_000)

    console = browser.new_context().new_page()
    console.goto(gateway.url + "/console")
    console.get_by_label("Email").fill("ana.widget@example.com")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Queue")).to_be_visible(timeout=20_000)
    console.locator("#queue button").first.click()
    console.get_by_role("button", name="Claim").click()

    status = page.get_by_role("dialog").get_by_role("status")
    expect(status).to_have_text("Ana from our team has joined", timeout=10_000)
    expect(page.locator(".msg--system", has_text="Ana from our support team has joined the chat.")).to_be_visible()
    page.reload()  # the page redrawn from the transcript still knows who is there
    open_widget(page)
    expect(status).to_have_text("Ana from our team has joined", timeout=10_000)

    reply = console.get_by_label("Reply to the customer")
    reply.fill("Hi, I'm Ana. Let me look for your parcel.")  # an input event, as typing gives
    expect(page.get_by_text("Ana is typing…")).to_be_visible(timeout=10_000)
    console.get_by_role("button", name="Send").click()
    answer = page.locator(".msg--out", has_text="Let me look for your parcel.")
    expect(answer).to_contain_text("Ana", timeout=10_000)
    expect(page.get_by_text("Ana is typing…")).to_be_hidden()

    console.get_by_role("button", name="Hand back to bot").click()
    expect(status).to_have_text("Online", timeout=10_000)
    page.screenshot(path=str(Path(OUTPUT) / "widget-agent.png"))
    console.context.close()
    page.context.close()
