"""An existing Rasa web widget, rasa-webchat 1.0.1 from the npm registry, on a shop's site
(another origin) shows what the gateway answers, exactly as with Rasa's own socket.io
channel: the greeting, an FAQ answer to a typed question, its buttons and the answer to
a button press, in launcher mode and embedded, with the widget's default settings (so it
opens with a ``user_uttered`` that has no message: the start of the conversation)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.local_stack import free_port
from tests.browser.cross_origin import (
    CANCEL_ANSWER, GREETING, THANKS, gateway_in_thread, js, shop_page, site, webchat_bundle,
)
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway
from tests.stack_harness import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def webchat_page(gateway_url: str, mode: str) -> dict[str, str]:
    """The shop's page and its start script (a file: no inline script needed)."""
    # Only what the integration needs, where the server is; everything else default.
    options = {"socketUrl": gateway_url, "socketPath": "/socket.io/"}
    container = ""
    if mode == "embedded":
        options.update(selector="#webchat", embedded=True)
        container = '<div id="webchat" style="height: 600px; width: 420px"></div>'
    body = f'{container}\n<script src="webchat.js"></script>\n<script src="{mode}.js"></script>'
    return {f"{mode}.html": shop_page("Shop with rasa-webchat", body),
            f"{mode}.js": f"WebChat.default({js(options)}, null);\n"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, str]]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with gateway_in_thread(tmp_path_factory.mktemp("webchat-gateway"), allowed_origins=origin) as gateway:
        files: dict[str, str | Path] = {"webchat.js": webchat_bundle(),
                                        **webchat_page(gateway.url, "launcher"),
                                        **webchat_page(gateway.url, "embedded")}
        with site(files, port=port) as served:
            yield gateway, served


def converse(page: Page) -> None:
    """Greeting, a typed question answered with buttons, a button press answered."""
    greeting = page.locator(".rw-response", has_text=GREETING)
    expect(greeting).to_be_visible(timeout=20_000)
    box = page.locator(".rw-new-message")
    box.fill("How do I cancel my order?")
    box.press("Enter")
    expect(page.locator(".rw-client", has_text="How do I cancel my order?")).to_be_visible()
    expect(page.locator(".rw-response", has_text=CANCEL_ANSWER)).to_be_visible(timeout=20_000)
    helpful = page.locator(".rw-reply", has_text="Helpful").first
    expect(helpful).to_be_visible()
    expect(page.locator(".rw-reply", has_text="Not helpful")).to_be_visible()
    helpful.click()
    expect(page.locator(".rw-response", has_text=THANKS)).to_be_visible(timeout=20_000)


def test_launcher_mode_shows_the_answers(shop: tuple[Gateway, str], browser: Browser) -> None:  # noqa: F811
    _, origin = shop
    page = browser.new_context().new_page()
    page.goto(origin + "/launcher.html")
    launcher = page.locator(".rw-launcher")
    expect(launcher).to_be_visible(timeout=20_000)  # shown once connected (hideWhenNotConnected)
    expect(page.locator(".rw-response")).to_have_count(0)  # nothing asked before it opens
    launcher.click()
    converse(page)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "rasa-webchat-launcher.png"))
    page.context.close()


def test_embedded_mode_shows_the_answers(shop: tuple[Gateway, str], browser: Browser) -> None:  # noqa: F811
    _, origin = shop
    page = browser.new_context().new_page()
    page.goto(origin + "/embedded.html")
    converse(page)
    page.screenshot(path=str(OUTPUT / "rasa-webchat-embedded.png"))
    page.context.close()
