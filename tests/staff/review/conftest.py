"""A real gateway over a seeded database, and signed-in clients of each role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.db import make_engine, make_session_factory
from tests.gateway_harness import Gateway, running_gateway
from tests.staff.review.seed import Seeded, seed
from tests.staff.test_console import PASSWORD, add_user

LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """An HTTP client signed in as one user (or anonymous), sending the CSRF header."""

    def __init__(self, gateway: Gateway) -> None:
        self.http = httpx.AsyncClient(base_url=gateway.url, timeout=20)
        self.csrf = ""

    async def login(self, email: str) -> Client:
        page = await self.http.get("/login")
        token = LOGIN_TOKEN.search(page.text)
        assert token, page.text
        response = await self.http.post("/login", data={"email": email, "password": PASSWORD,
                                                        "csrf_token": token.group(1)})
        assert response.status_code in (302, 303), response.text
        self.csrf = (await self.http.get("/api/me")).json()["csrf_token"]
        return self

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params or None)

    async def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.request(method, path, json=body, headers={"X-CSRF-Token": self.csrf})

    async def ids(self, **params: Any) -> list[str]:
        response = await self.get("/api/review/conversations", **params)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["conversations"]]


@dataclass
class World:
    gateway: Gateway
    url: str
    seeded: Seeded
    supervisor: Client
    agent: Client
    admin: Client
    anonymous: Client


@pytest.fixture
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    agent_id = add_user(database_url, "agent@helpline.test", "Dana Agent", "agent")
    add_user(database_url, "super@helpline.test", "Sam Supervisor", "supervisor")
    add_user(database_url, "admin@helpline.test", "Ada Admin", "admin")
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        seeded = seed(session, agent_id)
    engine.dispose()
    async with running_gateway(tmp_path, database_url) as gateway:
        clients = [Client(gateway) for _ in range(4)]
        world = World(gateway, database_url, seeded,
                      await clients[0].login("super@helpline.test"),
                      await clients[1].login("agent@helpline.test"),
                      await clients[2].login("admin@helpline.test"),
                      clients[3])
        try:
            yield world
        finally:
            for client in clients:
                await client.http.aclose()
