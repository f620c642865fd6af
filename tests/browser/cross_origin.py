"""Chat widgets on a third-party site: a page served from another origin than the gateway.

The gateway runs in-process (tests/gateway_harness.py) on its own event loop in a thread,
so the synchronous Playwright tests can drive Chromium meanwhile; Rasa is the scripted
stand-in, answering like the demo shop's assistant (greeting, an FAQ answer with its
"did this help?" buttons, the answer to a button press). The site is a plain HTTP server
on another port of 127.0.0.1, so the browser sends it as a different Origin.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.local_stack import PROJECT, free_port
from bot.migrate import upgrade
from tests.gateway_harness import Gateway, ScriptedRasa, running_gateway

WEBCHAT = "rasa-webchat@1.0.1"
WEBCHAT_BUNDLE = PROJECT / ".cache" / "npm" / "package" / "lib" / "index.js"

GREETING = "Hi! I'm the Brightcart assistant. Ask me about orders, delivery, returns, payment, invoices or your account."
CANCEL_ANSWER = "You can cancel an order until it ships: open My orders, pick the order and choose Cancel."
HELPFUL = {"title": "👍 Helpful", "payload": '/feedback{"helpful":"yes","faq_id":"orders.cancel"}'}
NOT_HELPFUL = {"title": "👎 Not helpful", "payload": '/feedback{"helpful":"no","faq_id":"orders.cancel"}'}
THANKS = "Glad that helped! Anything else I can do?"


class ShopRasa(ScriptedRasa):
    """Scripted like the demo shop: /greet, the cancel FAQ with feedback buttons, thanks;
    "slow:<s> ..." answers late; anything else is echoed."""

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append(body)
        text: str = body["message"]
        if text.startswith("slow:"):
            await asyncio.sleep(float(text.split()[0][5:]))
        message: dict[str, Any] = {"recipient_id": body["sender"], "text": f"echo: {text}"}
        if text == "/greet":
            message["text"] = GREETING
        elif text.startswith("/feedback"):
            message["text"] = THANKS
        elif text.startswith("human"):  # what action_escalate sends: a handover line + the request
            message["text"] = "I'm passing this to a colleague."
            message["helpline"] = {"escalate": {"reason": "customer_request", "summary": text}}
        elif "cancel" in text.lower():
            message["text"] = CANCEL_ANSWER
            message["buttons"] = [HELPFUL, NOT_HELPFUL]
            message["helpline"] = {"faq_trail": {"rule": "answer", "faq_id": "orders.cancel", "score": 0.9}}
        return JSONResponse({"intent": {"name": "faq", "confidence": 0.9}, "messages": [message], "rasa_ms": 1.0})


def webchat_bundle() -> Path:
    """rasa-webchat's standalone bundle; scripts/fetch_rasa_webchat packs it once (npm)."""
    if not WEBCHAT_BUNDLE.exists():
        script = PROJECT / "scripts" / "fetch_rasa_webchat"
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to fetch rasa-webchat for this test (scripts/fetch_rasa_webchat)")
        subprocess.run([str(script)], check=True, capture_output=True, timeout=300)
    return WEBCHAT_BUNDLE


@contextmanager
def gateway_in_thread(tmp_path: Path, **settings: Any) -> Iterator[Gateway]:
    """The real gateway (uvicorn + socket.io) with ShopRasa, on a loop of its own."""
    database_url = f"sqlite:///{tmp_path / 'helpline.db'}"
    upgrade(database_url)
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["stop"] = asyncio.Event()
        try:
            async with running_gateway(tmp_path, database_url, rasa=ShopRasa(), extra_settings=settings) as gateway:
                state["gateway"] = gateway
                started.set()
                await state["stop"].wait()
        except BaseException as error:  # reported to the test thread below
            state["error"] = error
            started.set()

    loop = asyncio.new_event_loop()

    def run() -> None:
        loop.run_until_complete(main())
        leftovers = asyncio.all_tasks(loop)  # e.g. engine.io's ping tasks of closed sockets
        for task in leftovers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(60)
    if "gateway" not in state:
        raise RuntimeError("gateway did not start") from state.get("error")
    try:
        yield state["gateway"]
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        loop.close()


@contextmanager
def site(files: dict[str, str | Path], port: int | None = None) -> Iterator[str]:
    """A shop's website on its own origin (http://127.0.0.1:<port>); yields that origin."""
    root = Path(tempfile.mkdtemp(prefix="shop-site-"))
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copy(content, root / name)
        else:
            (root / name).write_text(content)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port or free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def shop_page(title: str, body: str) -> str:
    """A shop's page with its own styles, which must not leak into a widget."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>* {{ font-family: serif !important; color: #a00; }} button {{ background: yellow; }}</style>
</head><body><h1>{title}</h1><p>Our products.</p>
{body}
</body></html>"""


def js(value: Any) -> str:
    return json.dumps(value)
