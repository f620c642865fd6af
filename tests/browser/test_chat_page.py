"""A customer in headless Chromium types into the chat page and reads the answer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.cross_origin import CANCEL_ANSWER, THANKS, gateway_in_thread
from tests.gateway_harness import Gateway
from tests.stack_harness import OUTPUT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is required for browser tests (scripts/test installs it)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_customer_asks_and_reads_the_answer(stack: Stack, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(stack.url + "/")
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    box = page.get_by_label("Your message")
    box.fill("How do I cancel my order?")
    box.press("Enter")
    answer = page.locator(".msg--out").last
    expect(answer).to_contain_text("cancel", timeout=30_000)

    # HTML typed by a customer is shown as text, never rendered.
    box.fill("<b id='injected'>bold</b>")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg--in").last).to_contain_text("<b id='injected'>bold</b>")
    assert page.locator("#injected").count() == 0
    expect(page.locator(".msg--out")).to_have_count(2, timeout=30_000)

    # Whitespace-only input gets a visible notice instead of being sent.
    box.fill("   ")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Empty message ignored.")

    # A reload keeps the conversation (same signed id) and redraws its history.
    page.reload()
    expect(page.locator(".msg--in").first).to_contain_text("How do I cancel my order?", timeout=20_000)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(OUTPUT) / "chat-page.png"), full_page=True)
    page.close()


@pytest.fixture(scope="module")
def local_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway with a scripted shop Rasa (fast to start; the stack test above is real)."""
    with gateway_in_thread(tmp_path_factory.mktemp("chat-page")) as gateway:
        yield gateway


def test_the_page_reads_rasas_message_shape_and_warns_before_the_limit(
    local_gateway: Gateway, browser: Browser
) -> None:
    """bot_uttered carries author and id under metadata (Rasa's shape): the page still
    tells the assistant from a notice; a message over the limit is announced, not cut."""
    page = browser.new_page()
    page.goto(local_gateway.url + "/")
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    box = page.get_by_label("Your message")
    box.fill("How do I cancel my order?")
    box.press("Enter")
    answer = page.locator(".msg--out", has_text=CANCEL_ANSWER)
    expect(answer).to_contain_text("Assistant", timeout=15_000)
    answer.get_by_role("button", name="👍 Helpful").click()
    expect(page.locator(".msg--out", has_text=THANKS)).to_be_visible(timeout=15_000)
    box.fill("human please")
    box.press("Enter")
    expect(page.locator(".msg--system").last).to_contain_text("Notice")
    expect(page.locator(".msg--system").last).to_contain_text("ticket number is HL-", timeout=15_000)

    box.fill("a" * 3650)
    expect(page.get_by_text("3650 of 4000 characters.")).to_be_visible()
    box.fill("b" * 4005)
    expect(page.get_by_text("Too long: 4005 of 4000 characters. Please shorten it by 5 to send.")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    box.press("Enter")
    expect(box).to_have_value("b" * 4005)  # kept whole for the customer to shorten
    expect(page.locator(".msg--in", has_text="bbbb")).to_have_count(0)
    page.close()
