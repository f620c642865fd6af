"""An existing Rasa web widget, rasa-webchat 1.0.1 from the npm registry, talks to the
gateway exactly as it would talk to Rasa's own socket.io channel."""

from __future__ import annotations

import functools
import re
import http.server
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, expect

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import make_engine
from bot.local_stack import PROJECT, free_port
from bot.transcript.models import Message
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.stack_harness import OUTPUT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

WEBCHAT = "rasa-webchat@1.0.1"
CACHE = PROJECT / ".cache" / "rasa-webchat-1.0.1"


def webchat_bundle() -> Path:
    """The widget's standalone bundle, fetched once with `npm pack` (no dependencies)."""
    bundle = CACHE / "package" / "lib" / "index.js"
    if not bundle.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to fetch rasa-webchat for this test")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "pack", WEBCHAT, "--pack-destination", str(CACHE)],
                       check=True, capture_output=True, timeout=300)
        (tarball,) = CACHE.glob("rasa-webchat-*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(CACHE, filter="data")
    return bundle


@pytest.fixture(scope="module")
def widget_site(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A third-party page embedding the widget, served from another origin."""
    site = tmp_path_factory.mktemp("widget-site")
    shutil.copy(webchat_bundle(), site / "webchat.js")
    (site / "index.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop with rasa-webchat</title></head>
<body><div id="webchat" style="height: 640px; width: 480px"></div>
<script src="webchat.js"></script>
<script>
  WebChat.default({{
    selector: "#webchat", initPayload: "/greet", customData: {{language: "en"}},
    socketUrl: "{stack.url}", socketPath: "/socket.io/", embedded: true,
    title: "Brightcart", params: {{storage: "session"}}
  }}, null);
</script></body></html>""")
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/index.html"
    server.shutdown()


def test_rasa_webchat_widget_chats_with_the_gateway(
    stack: Stack, widget_site: str, browser: Browser  # noqa: F811
) -> None:
    """What the widget sends (over WebSocket or long-polling) and what the gateway stored
    and answered for the session it issued."""
    sent: list[str] = []
    page = browser.new_page()
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(str(frame))))
    page.on("request", lambda request: sent.append(request.post_data or "")
            if "/socket.io/" in request.url and request.method == "POST" else None)
    page.goto(widget_site)
    expect(page.locator(".rw-new-message")).to_be_visible(timeout=30_000)

    def session_id() -> str | None:
        for frame in sent:
            match = re.search(r'"user_uttered",\{.*?"session_id":"([0-9a-f]{32})\.', frame)
            if match:
                return match.group(1)
        return None

    engine = make_engine(stack.settings.sqlalchemy_url)

    def conversation() -> list[Message]:
        raw = session_id()
        if raw is None:
            return []
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(
                select(Message).where(Message.conversation_id == raw).order_by(Message.id)))

    def wait_for(predicate: Any) -> list[Any]:
        for _ in range(60):
            history = conversation()
            if predicate(history):
                return history
            page.wait_for_timeout(500)
        raise AssertionError(f"not reached; sent frames: {sent}")

    # initPayload "/greet" carried the server-signed session id and was answered by Rasa.
    history = wait_for(lambda h: len(h) >= 2)
    assert history[0].text == "/greet" and history[0].status == "answered"
    assert "Brightcart assistant" in history[1].text

    # A question typed into the widget is answered from the FAQ, with its buttons.
    page.locator(".rw-new-message").fill("How do I cancel my order?")
    page.locator(".rw-new-message").press("Enter")
    history = wait_for(lambda h: len(h) >= 4)
    question, answer = history[2], history[3]
    assert question.text == "How do I cancel my order?" and question.intent
    assert answer.faq_trail and answer.faq_trail["rule"] == "answer" and answer.buttons
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "rasa-webchat.png"), full_page=True)
    engine.dispose()
