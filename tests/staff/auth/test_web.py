"""Login, sessions, CSRF, roles, throttling and audit over a real ASGI app (httpx + ASGITransport)."""

from __future__ import annotations

import hashlib
import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.components import AuthComponents, build_auth
from staff.auth.config import AuthConfig
from staff.auth.models import AuditEntry
from staff.auth.passwords import Passwords
from staff.auth.sessions import SALT, SECURE_SESSION_COOKIE, SESSION_COOKIE
from bot.settings import Settings
from tests.staff.auth.conftest import (
    PASSWORD,
    TEST_ACTOR,
    FakeClock,
    Users,
    csrf_token,
    example_app,
    login,
    make_client,
)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers of a response by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def audit_rows(session_factory: sessionmaker[Session]) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# -- login page and login -------------------------------------------------------------------


async def test_login_page_is_accessible_self_contained_html(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<label for="email">' in html and 'id="email"' in html
    assert (
        '<label for="password">' in html
        and 'type="password"' in html
        and 'autocomplete="current-password"' in html
    )
    assert '<html lang="en">' in html and "<main" in html
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', html)
    assert "<script" not in html and "http://" not in html and "https://" not in html  # no CDN
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no scripts
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    nonce_cookie = set_cookies(page)["helpline_login_csrf"]
    assert "HttpOnly" in nonce_cookie and "SameSite=Lax" in nonce_cookie
    css = await client.get("/auth/login.css")
    assert (
        css.status_code == 200
        and css.headers["content-type"].startswith("text/css")
        and "--accent" in css.text
    )


async def test_login_sets_a_hardened_session_cookie_and_me_answers(
    client: httpx.AsyncClient, users: Users
) -> None:
    response = await login(client, "Agent@Example.com", next_path="/console?ticket=7")
    assert response.status_code == 303 and response.headers["location"] == "/console?ticket=7"
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie  # http deployment in this test
    me = await client.get("/api/me")
    assert me.status_code == 200
    body = me.json()
    assert body["email"] == "agent@example.com" and body["role"] == "agent" and body["id"] == users.agent.id
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"])
    page = await client.get("/console")
    assert page.status_code == 200 and body["csrf_token"] in page.text


async def test_secure_cookie_on_https_deployments(
    settings: Settings, session_factory: sessionmaker[Session], passwords: Passwords, users: Users
) -> None:
    https = settings.model_copy(update={"public_url": "https://help.example.com/"})
    auth = build_auth(https, session_factory, config=AuthConfig(), passwords=passwords)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=example_app(auth)), base_url="https://testserver"
    ) as client:
        response = await login(client, "agent@example.com")
        cookie = set_cookies(response)[SECURE_SESSION_COOKIE]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert (await client.get("/api/me")).status_code == 200


@pytest.mark.parametrize(
    "email,password", [("agent@example.com", "wrong password here"), ("nobody@example.com", PASSWORD)]
)
async def test_failed_login_gives_one_message_and_no_session(
    client: httpx.AsyncClient, users: Users, email: str, password: str
) -> None:
    response = await login(client, email, password)
    assert response.status_code == 401
    assert "Email or password is incorrect." in response.text
    assert SESSION_COOKIE not in set_cookies(response)
    assert (await client.get("/api/me")).status_code == 401


async def test_login_form_needs_its_csrf_token(client: httpx.AsyncClient, users: Users) -> None:
    await client.get("/login")  # has the nonce cookie, but posts no or a wrong token
    missing = await client.post("/login", data={"email": "agent@example.com", "password": PASSWORD})
    wrong = await client.post(
        "/login", data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": "0" * 64}
    )
    for response in (missing, wrong):
        assert response.status_code == 403 and "expired or did not come from this site" in response.text
        assert SESSION_COOKIE not in set_cookies(response)
    # A token from the page without the matching cookie (another browser) fails as well.
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    stolen = await client.post(
        "/login", data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert stolen.status_code == 403


async def test_login_ignores_foreign_next_targets(client: httpx.AsyncClient, users: Users) -> None:
    response = await login(client, "agent@example.com", next_path="//evil.example/steal")
    assert response.status_code == 303 and response.headers["location"] == "/console"


async def test_signed_in_visitor_skips_the_login_form(client: httpx.AsyncClient, users: Users) -> None:
    await login(client, "agent@example.com")
    again = await client.get("/login?next=/console/queue")
    assert again.status_code == 303 and again.headers["location"] == "/console/queue"


# -- sessions ---------------------------------------------------------------------------------


async def test_pages_redirect_and_api_answers_401_when_signed_out(client: httpx.AsyncClient) -> None:
    page = await client.get("/console?ticket=3")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fconsole%3Fticket%3D3"
    api = await client.get("/api/agent-area")
    assert api.status_code == 401 and api.json()["detail"] == "not signed in or session expired"


async def test_tampered_cookie_is_refused_and_cleared(client: httpx.AsyncClient, users: Users) -> None:
    await login(client, "agent@example.com")
    genuine = client.cookies[SESSION_COOKIE]
    signature = genuine.rsplit(".", 1)[1]
    # The admin's claims, signed with a key we do not use, and with the agent's signature.
    forger = URLSafeSerializer("guessed key", salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})
    forged_cookie = forger.dumps({"u": users.admin.id, "v": 1, "s": "x" * 24, "i": 1.8e9, "r": 1.8e9})
    forged = forged_cookie.rsplit(".", 1)[0]
    for bad in (forged_cookie, f"{forged}.{signature}", genuine[:-3] + "abc", "garbage"):
        client.cookies.set(SESSION_COOKIE, bad)
        response = await client.get("/api/me")
        assert response.status_code == 401
        assert "Max-Age=0" in set_cookies(response)[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, genuine)
    assert (await client.get("/api/me")).json()["email"] == "agent@example.com"


async def test_session_version_bump_logs_out_everywhere(
    app: FastAPI, auth: AuthComponents, users: Users
) -> None:
    async with make_client(app) as laptop, make_client(app, ip="198.51.100.9") as phone:
        await login(laptop, "agent@example.com")
        await login(phone, "agent@example.com")
        assert (await laptop.get("/api/me")).status_code == 200
        auth.users.end_sessions(users.agent.id, TEST_ACTOR)
        assert (await laptop.get("/api/me")).status_code == 401
        assert (await phone.get("/api/me")).status_code == 401
        await login(laptop, "agent@example.com")  # a fresh login works again
        assert (await laptop.get("/api/me")).status_code == 200


async def test_deactivation_and_role_change_take_effect_at_once(
    client: httpx.AsyncClient, auth: AuthComponents, users: Users
) -> None:
    await login(client, "supervisor@example.com")
    assert (await client.get("/api/supervisor-area")).status_code == 200
    auth.users.set_role(users.supervisor.id, "agent", TEST_ACTOR)
    assert (await client.get("/api/agent-area")).status_code == 401  # must sign in again
    await login(client, "supervisor@example.com")
    assert (await client.get("/api/supervisor-area")).status_code == 403
    auth.users.set_active(users.supervisor.id, False, TEST_ACTOR)
    assert (await client.get("/api/agent-area")).status_code == 401
    assert (await login(client, "supervisor@example.com")).status_code == 401


async def test_idle_timeout_slides_with_activity(
    client: httpx.AsyncClient, clock: FakeClock, users: Users
) -> None:
    await login(client, "agent@example.com")
    for _ in range(4):  # 4 x 20 min of activity: longer than the 30 min idle limit in total
        clock.advance(20 * 60)
        response = await client.get("/api/me")
        assert response.status_code == 200
        assert SESSION_COOKIE in set_cookies(response)  # refreshed cookie
    clock.advance(31 * 60)
    assert (await client.get("/api/me")).status_code == 401


async def test_absolute_lifetime_ends_even_an_active_session(
    client: httpx.AsyncClient, clock: FakeClock, users: Users
) -> None:
    await login(client, "agent@example.com")
    for _ in range(23):  # active every 20 minutes for 7 h 40 min
        clock.advance(20 * 60)
        assert (await client.get("/api/me")).status_code == 200
    cookie = client.cookies[SESSION_COOKIE]
    clock.advance(21 * 60)  # 8 h 1 min after login, 21 min idle: only the 8 h limit is passed
    client.cookies.set(SESSION_COOKIE, cookie)  # even if the browser kept it
    assert (await client.get("/api/me")).status_code == 401


async def test_logout_needs_csrf_then_ends_the_session(
    client: httpx.AsyncClient, users: Users, session_factory: sessionmaker[Session]
) -> None:
    await login(client, "agent@example.com")
    token = await csrf_token(client)
    cookie = client.cookies[SESSION_COOKIE]
    assert (await client.post("/logout")).status_code == 403
    assert (await client.post("/logout", data={"csrf_token": "f" * 64})).status_code == 403
    assert (await client.get("/api/me")).status_code == 200  # the forged logouts did nothing
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Max-Age=0" in set_cookies(response)[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, cookie)  # a copied cookie is dead too
    assert (await client.get("/api/me")).status_code == 401
    assert [r.action for r in audit_rows(session_factory)][-2:] == ["auth.login", "auth.logout"]


# -- CSRF on the console's unsafe requests ---------------------------------------------------


async def test_csrf_required_on_unsafe_requests(app: FastAPI, users: Users) -> None:
    async with make_client(app) as agent, make_client(app) as admin:
        await login(agent, "agent@example.com")
        await login(admin, "admin@example.com")
        token = await csrf_token(agent)
        missing = await agent.post("/api/notes", json={"text": "hi"})
        assert missing.status_code == 403 and "CSRF token missing" in missing.json()["detail"]
        wrong = await agent.post("/api/notes", json={"text": "hi"}, headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403 and "CSRF token invalid" in wrong.json()["detail"]
        others = await agent.post(
            "/api/notes", json={"text": "hi"}, headers={"X-CSRF-Token": await csrf_token(admin)}
        )
        assert others.status_code == 403
        ok = await agent.post("/api/notes", json={"text": "hi"}, headers={"X-CSRF-Token": token})
        assert ok.status_code == 200 and ok.json() == {"saved": "hi", "by": "agent@example.com"}
        form_ok = await agent.post("/console/notes", data={"text": "from a form", "csrf_token": token})
        assert form_ok.status_code == 200 and form_ok.json()["saved"] == "from a form"
        form_missing = await agent.post("/console/notes", data={"text": "x"})
        assert form_missing.status_code == 403
        assert (await agent.get("/api/agent-area")).status_code == 200  # safe methods need none


async def test_new_login_gets_a_new_csrf_token(client: httpx.AsyncClient, users: Users) -> None:
    await login(client, "agent@example.com")
    first = await csrf_token(client)
    client.cookies.clear()
    await login(client, "agent@example.com")
    second = await csrf_token(client)
    assert first != second
    stale = await client.post("/api/notes", json={"text": "x"}, headers={"X-CSRF-Token": first})
    assert stale.status_code == 403


# -- roles ------------------------------------------------------------------------------------

ROLE_TABLE = {
    # signed in as -> status of (agent-area, supervisor-area, admin-area)
    None: (401, 401, 401),
    "agent": (200, 403, 403),
    "supervisor": (200, 200, 403),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("role", list(ROLE_TABLE))
async def test_role_checks(client: httpx.AsyncClient, users: Users, role: str | None) -> None:
    if role is not None:
        await login(client, f"{role}@example.com")
    statuses = tuple(
        [(await client.get(f"/api/{area}-area")).status_code for area in ("agent", "supervisor", "admin")]
    )
    assert statuses == ROLE_TABLE[role]
    if role == "agent":
        refused = await client.get("/api/admin-area")
        assert refused.json()["detail"] == "requires role admin; you are agent"


def test_require_roles_refuses_unknown_roles(auth: AuthComponents) -> None:
    with pytest.raises(ValueError):
        auth.require_roles("superuser")
    with pytest.raises(ValueError):
        auth.require_roles()


# -- throttling ---------------------------------------------------------------------------------


async def test_login_throttled_after_five_failures(app: FastAPI, clock: FakeClock, users: Users) -> None:
    async with make_client(app) as attacker, make_client(app, ip="198.51.100.20") as colleague:
        for _ in range(5):
            assert (await login(attacker, "agent@example.com", "wrong password!!")).status_code == 401
        blocked = await login(attacker, "agent@example.com")  # even the right password
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 900
        assert "Too many failed sign-in attempts" in blocked.text
        assert SESSION_COOKIE not in set_cookies(blocked)
        assert (await login(attacker, "admin@example.com")).status_code == 303  # other account
        attacker.cookies.clear()
        assert (await login(colleague, "agent@example.com")).status_code == 303  # other address
        clock.advance(901)
        assert (await login(attacker, "agent@example.com")).status_code == 303


async def test_success_resets_the_failure_count(client: httpx.AsyncClient, users: Users) -> None:
    for _ in range(4):
        await login(client, "agent@example.com", "wrong password!!")
    assert (await login(client, "agent@example.com")).status_code == 303
    client.cookies.clear()
    for _ in range(4):
        assert (await login(client, "agent@example.com", "wrong password!!")).status_code == 401


# -- admin API and audit ------------------------------------------------------------------------


async def test_admin_manages_users_over_the_api(
    app: FastAPI, users: Users, session_factory: sessionmaker[Session]
) -> None:
    async with make_client(app) as admin, make_client(app) as agent:
        await login(admin, "admin@example.com")
        await login(agent, "agent@example.com")
        headers = {"X-CSRF-Token": await csrf_token(admin)}
        new = {
            "email": "New@Example.com",
            "display_name": "New Agent",
            "role": "agent",
            "password": "a fresh long password",
        }
        created = await admin.post("/api/users", json=new, headers=headers)
        assert created.status_code == 201 and created.json()["email"] == "new@example.com"
        assert "password" not in created.text
        assert (await admin.post("/api/users", json=new, headers=headers)).status_code == 409
        short = await admin.post(
            "/api/users", json={**new, "email": "s@example.com", "password": "short"}, headers=headers
        )
        assert short.status_code == 422 and "at least 12" in short.text and 'short"' not in short.text
        listed = await admin.get("/api/users")
        assert [u["email"] for u in listed.json()] == [
            "agent@example.com",
            "supervisor@example.com",
            "admin@example.com",
            "new@example.com",
        ]
        # Deactivating the agent ends the agent's session at once.
        changed = await admin.patch(f"/api/users/{users.agent.id}", json={"active": False}, headers=headers)
        assert changed.status_code == 200 and changed.json()["active"] is False
        assert (await agent.get("/api/me")).status_code == 401
        last_admin = await admin.patch(
            f"/api/users/{users.admin.id}", json={"role": "agent"}, headers=headers
        )
        assert last_admin.status_code == 409
        assert (
            await admin.patch("/api/users/9999", json={"active": False}, headers=headers)
        ).status_code == 404
        assert (await admin.post("/api/users", json=new)).status_code == 403  # no CSRF token
    actions = [(r.action, r.actor_label) for r in audit_rows(session_factory) if r.action.startswith("user.")]
    assert ("user.create", "admin@example.com") in actions and (
        "user.deactivate",
        "admin@example.com",
    ) in actions


async def test_non_admins_cannot_manage_users(client: httpx.AsyncClient, users: Users) -> None:
    await login(client, "supervisor@example.com")
    headers = {"X-CSRF-Token": await csrf_token(client)}
    assert (await client.get("/api/users")).status_code == 403
    new = {
        "email": "n@example.com",
        "display_name": "N",
        "role": "admin",
        "password": "a fresh long password",
    }
    assert (await client.post("/api/users", json=new, headers=headers)).status_code == 403
    assert (await client.get("/api/audit")).status_code == 200  # supervisors read the audit log


async def test_audit_log_records_logins_and_never_a_password(
    app: FastAPI, users: Users, session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets_typed = [PASSWORD, "wrong password!!", "my-password-in-the-email-field", "a fresh long password"]
    async with make_client(app) as client:
        await login(client, "agent@example.com", "wrong password!!")
        await login(client, "my-password-in-the-email-field", PASSWORD)
        await login(client, "agent@example.com")
        await client.post(
            "/api/users",
            json={
                "email": "x@example.com",
                "display_name": "X",
                "role": "agent",
                "password": "a fresh long password",
            },
            headers={"X-CSRF-Token": await csrf_token(client)},
        )  # 403: agents cannot
        await client.post("/logout", data={"csrf_token": await csrf_token(client)})
        await login(client, "admin@example.com")
        await client.post(
            "/api/users",
            json={
                "email": "x@example.com",
                "display_name": "X",
                "role": "agent",
                "password": "a fresh long password",
            },
            headers={"X-CSRF-Token": await csrf_token(client)},
        )
        api_rows = (await client.get("/api/audit")).json()
    rows = audit_rows(session_factory)
    assert [(r.action, r.actor_label, r.ip) for r in rows if r.action.startswith("auth.")] == [
        ("auth.login_failed", "agent@example.com", "203.0.113.7"),
        ("auth.login_failed", "[not an email]", "203.0.113.7"),
        ("auth.login", "agent@example.com", "203.0.113.7"),
        ("auth.logout", "agent@example.com", "203.0.113.7"),
        ("auth.login", "admin@example.com", "203.0.113.7"),
    ]
    assert rows[-1].action == "user.create" and rows[-1].actor_user_id == users.admin.id
    assert len(api_rows) == len(rows) and api_rows[0]["action"] == "user.create"
    stored = " ".join(repr((r.actor_label, r.action, r.target_id, r.details)) for r in rows)
    logged = " ".join(f"{record.getMessage()} {record.args!r}" for record in caplog.records)
    assert caplog.records, "expected log records to inspect"
    for secret in secrets_typed:
        assert secret not in stored
        assert secret not in logged


# -- socket.io ----------------------------------------------------------------------------------


async def test_socket_user_validates_cookie_origin_and_token(
    client: httpx.AsyncClient, auth: AuthComponents, users: Users
) -> None:
    await login(client, "agent@example.com")
    token = await csrf_token(client)
    cookie = f"other=1; {SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}"
    environ = {
        "HTTP_COOKIE": cookie,
        "HTTP_HOST": "help.example.com",
        "HTTP_ORIGIN": "https://help.example.com",
        "REMOTE_ADDR": "203.0.113.7",
    }
    user = await auth.socket_user(environ, {"csrf_token": token})
    assert user is not None and user.email == "agent@example.com" and user.role == "agent"
    assert await auth.socket_user(environ, {}) is None  # no token
    assert await auth.socket_user(environ, {"csrf_token": "0" * 64}) is None
    assert (
        await auth.socket_user({**environ, "HTTP_ORIGIN": "https://evil.example"}, {"csrf_token": token})
        is None
    )
    assert (
        await auth.socket_user({**environ, "HTTP_COOKIE": cookie[:-4] + "abcd"}, {"csrf_token": token})
        is None
    )
    assert (
        await auth.socket_user(
            {k: v for k, v in environ.items() if k != "HTTP_COOKIE"}, {"csrf_token": token}
        )
        is None
    )
    auth.users.end_sessions(users.agent.id, TEST_ACTOR)
    assert await auth.socket_user(environ, {"csrf_token": token}) is None


async def test_access_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    assert {"/api/me", "/api/users", "/api/users/{user_id}", "/api/audit"} <= set(paths)
    assert "/login" not in paths and "/logout" not in paths  # pages, not API
    assert paths["/api/users"]["post"]["tags"] == ["access"]
    assert "csrf_token" in schema["components"]["schemas"]["Me"]["properties"]
