"""Bad input gets a 4xx with a reason, never a 500 (issue 15's probe found each of these
answered with a 500): ids beyond the database's integers, days at the ends of the
calendar, NaN/Infinity in JSON (the 422 itself failed to render), lone surrogates and NUL
in text; and control characters in new users' e-mail and display name."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from bot.db import make_engine, make_session_factory
from staff.auth.audit import Actor
from staff.auth.passwords import Passwords
from staff.auth.users import InvalidEmailError, UserDirectory, UserError
from tests.security.conftest import Client, World

HUGE = "99999999999999999999"


def reason_of(response: httpx.Response) -> str:
    """The 4xx's reason as text (FastAPI's detail may be a string or a list of errors)."""
    detail = response.json()["detail"]
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in detail)
    return str(detail)


def assert_refused(response: httpx.Response, where: str, *, status: int | None = None) -> str:
    assert 400 <= response.status_code < 500, (where, response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, (where, response.status_code, response.text[:300])
    reason = reason_of(response)
    assert reason.strip(), where
    return reason


async def raw(client: Client, method: str, path: str, body: bytes) -> httpx.Response:
    return await client.http.request(method, path, content=body,
                                     headers={"X-CSRF-Token": client.csrf, "Content-Type": "application/json"})


async def test_ids_beyond_64_bits_get_422(world: World) -> None:
    s, a, admin = world.supervisor, world.agent, world.admin
    cases: list[tuple[Client, str, str, dict[str, Any] | None]] = [
        (a, "GET", f"/api/tickets/{HUGE}", None),
        (a, "POST", f"/api/tickets/{HUGE}/claim", None),
        (a, "POST", f"/api/tickets/{HUGE}/notes", {"text": "hi"}),
        (a, "POST", f"/api/tickets/{HUGE}/messages", {"text": "hi"}),
        (s, "POST", "/api/tickets/1/transfer", {"agent_id": int(HUGE)}),
        (admin, "PATCH", f"/api/users/{HUGE}", {"role": "agent"}),
        (s, "GET", f"/api/audit?before_id={HUGE}", None),
        (s, "GET", f"/api/audit?actor_user_id={HUGE}", None),
        (a, "GET", "/api/tickets/-1", None),
    ]
    for client, method, path, body in cases:
        response = await client.send(method, path, body)
        reason = assert_refused(response, f"{method} {path}", status=422)
        assert "less than or equal" in reason or "greater than or equal" in reason, reason
    # Inside the range an unknown id is still a plain 404.
    assert (await a.get("/api/tickets/2147483647")).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_days_at_the_ends_of_the_calendar_get_422(world: World) -> None:
    s = world.supervisor
    for path in ("/api/review/conversations?from=0001-01-01&to=9999-12-31",
                 "/api/review/conversations?to=9999-12-31",
                 "/api/review/conversations?from=9999-12-31T23:59:59-05:00",
                 "/api/review/export?to=9999-12-31",
                 "/api/gaps?from=0001-01-01&to=9999-12-31", "/api/gaps?to=9999-12-31",
                 "/api/dashboard?to=9999-12-31", "/api/dashboard?from=0001-01-01&to=0001-01-05",
                 "/api/dashboard/me?to=9999-12-31"):
        reason = assert_refused(await s.get(path), path, status=422)
        assert "1970-01-01" in reason, (path, reason)
    # Ordinary periods still work.
    assert (await s.get("/api/review/conversations?from=2026-01-01&to=2026-12-31")).status_code == 200
    assert (await s.get("/api/dashboard?from=2026-11-01&to=2026-11-30")).status_code == 200


# Every JSON-body route of the app with a valid body: NaN, Infinity, a lone surrogate and
# NUL go into its first text (or number) field.
def json_routes(world: World) -> list[tuple[Client, str, str, dict[str, Any]]]:
    s, a, admin = world.supervisor, world.agent, world.admin
    cid = world.seeded.complaint
    return [
        (a, "POST", "/api/tickets/1/messages", {"text": "x"}),
        (a, "POST", "/api/tickets/1/notes", {"text": "x"}),
        (a, "POST", "/api/tickets/1/resolve", {"note": "x"}),
        (a, "POST", "/api/tickets/1/hand-back", {"note": "x"}),
        (s, "POST", "/api/tickets/1/transfer", {"agent_id": 1}),
        (a, "POST", "/api/presence", {"status": "online"}),
        (admin, "POST", "/api/users", {"email": "new@x.test", "display_name": "x", "role": "agent",
                                       "password": "a long enough password"}),
        (admin, "PATCH", "/api/users/1", {"role": "agent"}),
        (s, "PUT", f"/api/review/conversations/{cid}/status", {"status": "reviewed"}),
        (s, "POST", f"/api/review/conversations/{cid}/tags", {"tag": "x"}),
        (s, "POST", f"/api/review/conversations/{cid}/comments", {"text": "x"}),
        (s, "POST", "/api/gaps/faq", {"id": "x", "question": "x", "answer": "x", "source_stamp": "x"}),
        (s, "POST", "/api/gaps/phrasings", {"faq_id": "x", "phrasings": ["x"], "source_stamp": "x"}),
        (s, "POST", "/api/gaps/phrasings/move", {"faq_id": "x", "phrasing": "x", "source_stamp": "x"}),
    ]


def poisoned(body: dict[str, Any], literal: str) -> bytes:
    key = next(iter(body))
    text = json.dumps({**body, key: "__POISON__"})
    return text.replace('"__POISON__"', literal).encode()


async def test_nan_infinity_surrogates_and_nul_in_json_bodies_get_422_with_a_reason(world: World) -> None:
    for client, method, path, body in json_routes(world):
        for literal, expected in (("NaN", "not a JSON number"), ("Infinity", "not a JSON number"),
                                  ("-Infinity", "not a JSON number"), ('"a\\ud800b"', "surrogate"),
                                  ('"\\udfff"', "surrogate"), ('"a\\u0000b"', "NUL")):
            response = await raw(client, method, path, poisoned(body, literal))
            reason = assert_refused(response, f"{method} {path} {literal}", status=422)
            assert expected in reason, (path, literal, reason)
        # A nested list item too, and a key.
        nested = await raw(client, method, path, json.dumps({**body, "extra": ["ok", "x\ud800"]},
                                                            ensure_ascii=True).encode())
        assert_refused(nested, f"{method} {path} nested surrogate", status=422)
    # A valid surrogate pair (an emoji written as \\ud83d\\ude00) is fine.
    emoji = await raw(world.supervisor, "POST", f"/api/review/conversations/{world.seeded.complaint}/comments",
                      b'{"text": "thanks \\ud83d\\ude00"}')
    assert emoji.status_code == 201 and emoji.json()["text"] == "thanks \U0001F600"


async def test_control_characters_and_nul_in_query_and_path(world: World) -> None:
    s = world.supervisor
    for path in ("/api/review/conversations?q=a%00b", f"/api/review/conversations/{world.seeded.bot}/x%00",
                 "/api/audit?action=a%00", "/api/suggestions?q=%00"):
        assert_refused(await s.get(path), path, status=422)
    deleted = await s.send("DELETE", f"/api/review/conversations/{world.seeded.bot}/tags/a%00b")
    assert_refused(deleted, "DELETE tag with NUL", status=422)


async def test_new_users_with_control_characters_are_refused(world: World) -> None:
    admin = world.admin
    for field, value in (("email", "eve\x00@x.test"), ("email", "eve\x07@x.test"),
                         ("display_name", "Eve\x00"), ("display_name", "Eve\x1b[31m"),
                         ("display_name", "Eve\u2028Admin")):
        body = {"email": "eve@x.test", "display_name": "Eve", "role": "agent", "password": "a long enough password",
                field: value}
        reason = assert_refused(await admin.send("POST", "/api/users", body), f"{field}={value!r}", status=422)
        assert "control character" in reason or "NUL" in reason, reason
    assert (await admin.get("/api/users")).json()[-1]["email"] != "eve@x.test"
    # The CLI goes through the same directory: refused there as well.
    engine = make_engine(world.url)
    users = UserDirectory(make_session_factory(engine), Passwords(
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), min_length=8))
    with pytest.raises(InvalidEmailError, match="control character"):
        users.create("eve\x00@x.test", "Eve", "agent", "a long enough password", Actor(None, "test"))
    with pytest.raises(UserError, match="control character"):
        users.create("eve@x.test", "Eve\x00", "agent", "a long enough password", Actor(None, "test"))
    engine.dispose()
