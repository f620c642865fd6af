"""Fixtures for auth tests: a migrated database, cheap argon2, a controllable clock, and an
ASGI app built from the auth router plus example endpoints for each role."""

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.audit import Actor
from staff.auth.components import AuthComponents, build_auth
from staff.auth.config import AuthConfig
from staff.auth.dependencies import AuthenticatedUser
from staff.auth.passwords import Passwords
from staff.auth.users import UserInfo
from bot.db import make_engine, make_session_factory
from bot.settings import Settings

PASSWORD = "correct horse battery staple"
TEST_ACTOR = Actor(user_id=None, label="test-setup")


def fast_hasher() -> PasswordHasher:
    """argon2id with the smallest parameters: a test login costs a millisecond."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def postgresql_url_clean(postgresql_url_clean: str) -> str:
    """The shared fixture empties only transcript tables; empty ours too."""
    engine = create_engine(postgresql_url_clean)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log, users RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgresql_url_clean


@pytest.fixture
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(min_length=12, hasher=fast_hasher())


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth_config() -> AuthConfig:
    return AuthConfig(
        session_max_age_seconds=8 * 3600,
        session_idle_timeout_seconds=1800,
        login_max_failures=5,
        login_failure_window_seconds=900,
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path,
        state_dir=tmp_path / "var",
        secret_key="test-secret-key-" + "x" * 32,
        database_url=database_url,
    )


@pytest.fixture
def auth(
    settings: Settings,
    session_factory: sessionmaker[Session],
    passwords: Passwords,
    clock: FakeClock,
    auth_config: AuthConfig,
) -> AuthComponents:
    return build_auth(settings, session_factory, config=auth_config, passwords=passwords, clock=clock)


def example_app(auth: AuthComponents) -> FastAPI:
    """An app like the gateway's: the auth routes plus endpoints guarded per role."""
    app = FastAPI()
    auth.install(app)
    agent = auth.require_roles("agent")
    supervisor = auth.require_roles("supervisor")
    admin = auth.require_roles("admin")

    @app.get("/api/agent-area")
    async def agent_area(user: Annotated[AuthenticatedUser, Depends(agent)]) -> dict[str, str]:
        return {"user": user.email}

    @app.get("/api/supervisor-area")
    async def supervisor_area(user: Annotated[AuthenticatedUser, Depends(supervisor)]) -> dict[str, str]:
        return {"user": user.email}

    @app.get("/api/admin-area")
    async def admin_area(user: Annotated[AuthenticatedUser, Depends(admin)]) -> dict[str, str]:
        return {"user": user.email}

    @app.post("/api/notes")
    async def add_note(
        request: Request, user: Annotated[AuthenticatedUser, Depends(agent)]
    ) -> dict[str, str]:
        body = await request.json()
        return {"saved": body["text"], "by": user.email}

    @app.post("/console/notes")
    async def add_note_form(
        request: Request, user: Annotated[AuthenticatedUser, Depends(agent)]
    ) -> dict[str, str]:
        form = await request.form()  # the CSRF check already parsed it; still readable
        return {"saved": str(form["text"]), "by": user.email}

    @app.get("/console")
    async def console(user: Annotated[AuthenticatedUser, Depends(auth.current_user)]) -> HTMLResponse:
        return HTMLResponse(f'<meta name="csrf-token" content="{user.csrf_token}"><p>{user.display_name}</p>')

    return app


@pytest.fixture
def app(auth: AuthComponents) -> FastAPI:
    return example_app(auth)


def make_client(app: FastAPI, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 50000)), base_url="http://testserver"
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        yield http


@dataclass
class Users:
    agent: UserInfo
    supervisor: UserInfo
    admin: UserInfo


@pytest.fixture
def users(auth: AuthComponents) -> Users:
    return Users(
        *(
            auth.users.create(f"{role}@example.com", role.title(), role, PASSWORD, TEST_ACTOR)
            for role in ("agent", "supervisor", "admin")
        )
    )


LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str | None = None
) -> httpx.Response:
    """Sign in the way a browser does: fetch the form (cookie + token), post it."""
    page = await client.get("/login")
    match = LOGIN_TOKEN.search(page.text)
    assert match, page.text
    form = {"email": email, "password": password, "csrf_token": match.group(1)}
    if next_path is not None:
        form["next"] = next_path
    return await client.post("/login", data=form)


async def csrf_token(client: httpx.AsyncClient) -> str:
    me = await client.get("/api/me")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf_token"])
