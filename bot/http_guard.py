"""App-wide refusal of input no route can use, and error responses that always render.

``install_input_guard(app)`` (called once by ``bot/app.py``) adds:

- ``JsonInputGuard``: a JSON request body with ``NaN``/``Infinity`` (not JSON, though
  Python's parser takes them), a lone UTF-16 surrogate (``"\\ud800"``: not Unicode, cannot
  be stored or echoed) or a NUL character (PostgreSQL refuses it in text) gets
  ``422 {"detail": [{"loc": ["body", ...], "msg": reason, "type": ...}]}`` before any
  route runs, and so does a NUL in the query string or path. Chosen over storing the text
  with the character replaced: a client sending these has a bug, and silently changed
  words are worse in a support transcript than a clear refusal.
- handlers for ``RequestValidationError`` and ``HTTPException`` whose JSON rendering
  cannot fail: before, a 422 for a body with NaN tried to echo the NaN and crashed into a
  500 ("Out of range float values are not JSON compliant").
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Cheap pre-check on the raw bytes; only a body that may hold one of them is parsed here.
_SUSPECT = re.compile(rb"NaN|Infinity|\\u[dD][89a-fA-F]|\\u0000")
_JSON_TYPES = (b"application/json", b"+json")
MAX_GUARDED_BODY = 8 * 1024 * 1024


def _reject_constant(name: str) -> Any:
    raise _BadJson(f"{name} is not a JSON number (use null or a finite number)", "value_error.not_finite")


class _BadJson(Exception):
    def __init__(self, reason: str, kind: str, loc: tuple[Any, ...] = ()) -> None:
        super().__init__(reason)
        self.reason, self.kind, self.loc = reason, kind, loc


def _strings(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*loc, key), key
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def body_problem(body: bytes) -> _BadJson | None:
    """The first unusable value in a JSON body, or None (also None for invalid JSON:
    FastAPI answers that itself with its own 422)."""
    if not _SUSPECT.search(body):
        return None
    try:
        parsed = json.loads(body, parse_constant=_reject_constant)
    except _BadJson as exc:
        return exc
    except ValueError:
        return None
    for loc, text in _strings(parsed):
        for char in text:
            if "\ud800" <= char <= "\udfff":
                return _BadJson("contains a lone UTF-16 surrogate (not valid Unicode text)",
                                "value_error.surrogate", loc)
            if char == "\x00":
                return _BadJson("contains a NUL character", "value_error.nul", loc)
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media.endswith(_JSON_TYPES)
    return False


async def _send_422(send: Send, loc: list[Any], reason: str, kind: str) -> None:
    body = safe_json({"detail": [{"loc": loc, "msg": reason, "type": kind}]})
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class JsonInputGuard:
    """Pure ASGI: reads a JSON body once, checks it, and replays it to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            where = "query" if b"%00" in scope.get("query_string", b"") else "path"
            await _send_422(send, [where], "contains a NUL character", "value_error.nul")
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_GUARDED_BODY:
                await _send_422(send, ["body"], f"a JSON body may be at most {MAX_GUARDED_BODY} bytes",
                                "value_error.too_large")
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await _send_422(send, ["body", *problem.loc], problem.reason, problem.kind)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def safe_json(content: Any) -> bytes:
    """JSON that always encodes: non-finite floats as strings, anything else as str(),
    ASCII escapes (a lone surrogate becomes ``\\ud800`` instead of an encoding error)."""
    return json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return safe_json(content)


async def _validation_error(_: Request, exc: Exception) -> SafeJSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        # The reason and where; "input" is dropped: it may be huge, a password, or NaN.
        errors.append({"loc": list(error.get("loc", ())), "msg": error.get("msg", "invalid"),
                       "type": error.get("type", "value_error"),
                       **({"ctx": error["ctx"]} if error.get("ctx") else {})})
    return SafeJSONResponse({"detail": errors}, status_code=422)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)  # type: ignore[return-value]
    return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def install_input_guard(app: FastAPI) -> None:
    app.add_middleware(JsonInputGuard)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
