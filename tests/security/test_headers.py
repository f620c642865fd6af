"""Security headers on every response (issue 15): before, /console, /gaps, the chat page,
the JSON API and static files sent no CSP, X-Frame-Options or nosniff, and a same-site
page could frame a signed-in console."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.security.conftest import World

# (path, who asks): pages, API, static files, errors, the OpenAPI page.
RESPONSES = [
    ("/", "anonymous"), ("/login", "anonymous"), ("/console", "agent"), ("/console", "anonymous"),
    ("/gaps", "supervisor"), ("/review", "supervisor"), ("/dashboard", "supervisor"),
    ("/dashboard/me", "agent"), ("/api/me", "agent"), ("/api/queue", "agent"), ("/api/me", "anonymous"),
    ("/api/review/conversations", "supervisor"), ("/healthz", "anonymous"), ("/static/chat.js", "anonymous"),
    ("/staff/static/staff.js", "anonymous"), ("/console/static/console.js", "anonymous"),
    ("/review/static/review.js", "anonymous"), ("/no-such-page", "anonymous"), ("/openapi.json", "anonymous"),
    ("/docs", "anonymous"),
]


def script_sources(csp: str) -> str:
    """The effective script sources: script-src, else default-src."""
    match = re.search(r"script-src ([^;]*)", csp) or re.search(r"default-src ([^;]*)", csp)
    return match.group(1) if match else ""


def assert_secure(response: httpx.Response, where: str) -> None:
    h = response.headers
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (where, csp)
    assert script_sources(csp).startswith(("'self'", "'none'")), (where, csp)
    assert "unsafe-inline" not in script_sources(csp) and "unsafe-eval" not in script_sources(csp), (where, csp)
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy"), where


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_kind_of_response_carries_the_security_headers(world: World) -> None:
    for path, who in RESPONSES:
        client = getattr(world, who)
        response = await client.http.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert_secure(response, f"{path} as {who} ({response.status_code})")
        if path.startswith("/api/"):
            assert response.headers.get("cache-control") == "no-store", path
    # Unsafe methods and refusals too: a 422 from the input guard, a 403 without CSRF.
    refused = await world.agent.http.post("/api/presence", json={"status": "online"})
    assert refused.status_code == 403
    assert_secure(refused, "POST without CSRF")
    bad = await world.agent.http.post("/api/presence", content=b'{"status": NaN}', headers={
        "X-CSRF-Token": world.agent.csrf, "Content-Type": "application/json"})
    assert bad.status_code == 422, bad.text
    assert_secure(bad, "POST refused by the input guard")
    # A page that sets its own policy keeps it (the dashboard allows inline styles for its SVG).
    dashboard = await world.supervisor.http.get("/dashboard")
    assert "style-src 'self' 'unsafe-inline'" in dashboard.headers["content-security-policy"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_session_and_login_cookies_are_httponly_and_samesite(world: World) -> None:
    login = await world.anonymous.http.get("/login")
    cookies = login.headers.get_list("set-cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies), cookies
    client = httpx.AsyncClient(base_url=world.gateway.url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token
    client.cookies.update(world.anonymous.http.cookies)
    response = await client.post("/login", data={"email": "agent@helpline.test", "password": "a long enough password",
                                                  "csrf_token": token.group(1)})
    assert response.status_code == 303
    session_cookies = [c for c in response.headers.get_list("set-cookie") if "helpline_session" in c]
    assert session_cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in session_cookies)
    await client.aclose()
