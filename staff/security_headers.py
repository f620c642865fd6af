"""Security headers on every HTTP response of the gateway, set in one place.

Installed once in ``bot/app.py`` (``api.add_middleware(SecurityHeadersMiddleware)``), so
a page, a JSON route or a static file added later gets them without anyone remembering:
before, only the review, dashboard and login pages sent a Content-Security-Policy and
X-Frame-Options, and a same-site page could frame a signed-in console.

A response that sets one of these headers itself keeps its own value (the dashboard's
CSP allows inline styles for its SVG; an embeddable page may state its own
``frame-ancestors``): the middleware only fills in what is missing. The default policy is
``staff.pages.security_headers()``: scripts, styles and images from our origin only, no
inline script, never framed.

The OpenAPI pages (``/docs``, ``/redoc``) are FastAPI's: their HTML carries one inline
bootstrap script and loads Swagger/ReDoc from a CDN. Instead of ``'unsafe-inline'`` their
CSP names the SHA-256 of each inline script found in the (small) page, plus the CDN.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from staff.pages import security_headers

DEFAULT_HEADERS: dict[str, str] = security_headers(no_store=False)
# JSON under /api/ carries customers' words and staff data: never kept by a shared cache.
API_PREFIX = "/api/"
DOC_PAGES = ("/docs", "/redoc")
DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def docs_policy(html: bytes) -> str:
    """CSP for FastAPI's documentation pages: their inline scripts by hash, the CDN."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; style-src 'self' {DOCS_CDN}; "
        f"img-src 'self' data: https://fastapi.tiangolo.com; worker-src 'self' blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _missing(headers: Iterable[tuple[bytes, bytes]], wanted: dict[str, str]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [(name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in wanted.items() if name.lower().encode("latin-1") not in present]


class SecurityHeadersMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): streaming responses stay streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        wanted = dict(DEFAULT_HEADERS)
        if path.startswith(API_PREFIX):
            wanted["Cache-Control"] = "no-store"
        if path in DOC_PAGES:
            await self._docs(scope, receive, send, wanted)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_missing(headers, wanted))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send, wanted: dict[str, str]) -> None:
        """Buffer the documentation page (a few KB) to hash its inline scripts."""
        start: Message | None = None
        body = bytearray()

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    assert start is not None
                    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    headers.extend(_missing(headers, {**wanted, "Content-Security-Policy": docs_policy(bytes(body))}))
                    await send({**start, "headers": headers})
                    await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, buffer)
