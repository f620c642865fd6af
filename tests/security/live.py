"""A real gateway (uvicorn + socket.io, scripted Rasa) running in a background thread with
its own event loop, so synchronous clients (Schemathesis, requests, Playwright's sync API)
can call it from a test, plus users of every role signed in over HTTP.

Everything listens on 127.0.0.1 with ports picked free at run time.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.db import make_engine, make_session_factory
from tests.gateway_harness import Gateway, running_gateway
from tests.staff.review.seed import Seeded, seed
from tests.staff.test_console import PASSWORD, add_user

LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = ("anonymous", "agent", "other_agent", "supervisor", "admin")
EMAILS = {"agent": "agent@helpline.test", "other_agent": "other@helpline.test",
          "supervisor": "super@helpline.test", "admin": "admin@helpline.test"}
NAMES = {"agent": "Dana Agent", "other_agent": "Otto Other", "supervisor": "Sam Supervisor", "admin": "Ada Admin"}


class ThreadedLoop:
    """Runs an async context manager in a thread; ``call`` runs a coroutine there."""

    def __init__(self, factory: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self._factory = factory
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                async with self._factory() as value:
                    self._value = value
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as exc:  # surfaced to the test thread
                self._error = exc
                self._ready.set()

        asyncio.run(main())

    def __enter__(self) -> Any:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("gateway did not start within 60 s")
        if self._error is not None:
            raise self._error
        return self._value

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __exit__(self, *_: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@dataclass
class Staff:
    """A signed-in (or anonymous) synchronous HTTP client with its CSRF token."""

    role: str
    http: httpx.Client
    csrf: str = ""
    user_id: int | None = None

    def request(self, method: str, path: str, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.http.request(method, path, headers=headers, **kwargs)


def sign_in(url: str, role: str, user_id: int | None) -> Staff:
    http = httpx.Client(base_url=url, timeout=120)  # generous: CI machines are shared
    staff = Staff(role, http, user_id=user_id)
    if role == "anonymous":
        return staff
    token = LOGIN_TOKEN.search(http.get("/login").text)
    assert token
    response = http.post("/login", data={"email": EMAILS[role], "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    staff.csrf = http.get("/api/me").json()["csrf_token"]
    return staff


@dataclass
class LiveWorld:
    gateway: Gateway
    database_url: str
    seeded: Seeded
    user_ids: dict[str, int]
    staff: dict[str, Staff] = field(default_factory=dict)
    loop: ThreadedLoop | None = None

    @property
    def url(self) -> str:
        return self.gateway.url


@contextmanager
def live_world(tmp_path: Path, database_url: str, **gateway_options: Any) -> Iterator[LiveWorld]:
    """Users of every role, the review seed data, a gateway in a thread, everyone signed in."""
    user_ids = {role: add_user(database_url, EMAILS[role], NAMES[role], role.replace("other_", ""))
                for role in ROLES if role != "anonymous"}
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        seeded = seed(session, user_ids["agent"])
    engine.dispose()

    def factory() -> AbstractAsyncContextManager[Gateway]:
        return running_gateway(tmp_path, database_url, **gateway_options)

    loop = ThreadedLoop(factory)
    with loop as gateway:
        world = LiveWorld(gateway, database_url, seeded, user_ids, loop=loop)
        world.staff = {role: sign_in(gateway.url, role, user_ids.get(role)) for role in ROLES}
        try:
            yield world
        finally:
            for staff in world.staff.values():
                staff.http.close()


