"""A customer in headless Chromium types into the chat page and reads the answer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

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
