"""Pure pieces: throttle, redirects, roles, audit scrubbing, cookies, CSRF tokens, config."""

import pytest

from staff.auth.audit import REDACTED, scrub
from staff.auth.config import AuthConfig
from staff.auth.csrf import CsrfTokens
from staff.auth.dependencies import role_allows, safe_next
from staff.auth.sessions import SessionCookies, cookie_header, parse_cookie_header
from staff.auth.throttle import LoginThrottle
from staff.auth.users import attempt_label
from tests.staff.auth.conftest import FakeClock


async def test_throttle_blocks_after_the_limit_and_reopens_as_the_window_slides() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window_seconds=100, clock=clock)
    key = throttle.key("Ann@Example.com", "1.2.3.4")
    for _ in range(3):
        assert await throttle.begin(key) is None
        clock.advance(10)
    assert await throttle.begin(key) == 70  # now t=30; the first attempt (t=0) leaves the window at t=100
    assert await throttle.begin(throttle.key("ann@example.com", "5.6.7.8")) is None  # other IP
    clock.advance(69)
    assert await throttle.begin(key) == 1
    clock.advance(1)
    assert await throttle.begin(key) is None


async def test_throttle_success_clears_the_key() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=100, clock=FakeClock())
    key = throttle.key("a@b.c", None)
    await throttle.begin(key)
    await throttle.begin(key)
    assert await throttle.retry_after(key) is not None
    await throttle.succeeded(key)
    assert await throttle.retry_after(key) is None


async def test_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_failures=5, window_seconds=100, clock=FakeClock(), max_keys=10)
    for n in range(50):
        await throttle.begin(f"user{n}@x|ip")
    assert len(throttle.limiter.store) <= 10  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console?ticket=4", "/console?ticket=4"),
        ("//evil.example/x", "/home"),
        ("https://evil.example/", "/home"),
        ("/\\evil.example", "/home"),
        ("javascript:alert(1)", "/home"),
        ("evil.example/x", "/home"),
        (None, "/home"),
        ("/ok\r\nSet-Cookie: x=1", "/home"),
    ],
)
def test_only_local_paths_are_followed_after_login(target: object, expected: str) -> None:
    assert safe_next(target, "/home") == expected


def test_roles_are_ranked() -> None:
    assert role_allows("admin", ("agent",)) and role_allows("supervisor", ("agent",))
    assert not role_allows("agent", ("supervisor",)) and not role_allows("supervisor", ("admin",))
    assert role_allows("supervisor", ("supervisor", "admin"))
    assert not role_allows("intruder", ("agent",)) and not role_allows("admin", ())


def test_scrub_redacts_secret_keys_at_any_depth() -> None:
    details = {
        "email": "a@b.c",
        "password": "hunter22hunter",
        "nested": [{"X-CSRF-Token": "t", "ok": 1}],
        "new_password_hash": "$argon2id$...",
        "api_key": "k",
        "passed_sla": True,
    }
    cleaned = scrub(details)
    assert cleaned["email"] == "a@b.c" and cleaned["passed_sla"] is True
    assert cleaned["password"] == REDACTED and cleaned["new_password_hash"] == REDACTED
    assert cleaned["nested"] == [{"X-CSRF-Token": REDACTED, "ok": 1}] and cleaned["api_key"] == REDACTED


def test_attempt_label_never_keeps_a_password_typed_as_email() -> None:
    assert attempt_label(" Ann@Example.COM ") == "ann@example.com"
    assert attempt_label("my secret pass") == "[not an email]"


def test_cookie_header_flags() -> None:
    header = cookie_header("s", "v", max_age=60, secure=True)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header and "Path=/" in header
    assert "Secure" not in cookie_header("s", "v", max_age=60, secure=False)
    assert parse_cookie_header('a=1; s="v2"; b=') == {"a": "1", "s": "v2", "b": ""}


def test_session_claims_round_trip_and_refuse_another_key() -> None:
    clock = FakeClock()
    ours = SessionCookies("key-one", max_age_seconds=100, idle_timeout_seconds=50, secure=False, clock=clock)
    theirs = SessionCookies(
        "key-two", max_age_seconds=100, idle_timeout_seconds=50, secure=False, clock=clock
    )
    claims = ours.issue(7, 3)
    value = ours.encode(claims)
    assert ours.decode(value) == claims
    assert theirs.decode(value) is None
    assert ours.decode(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    clock.advance(51)
    assert ours.decode(value) is None  # idle


def test_csrf_tokens_are_bound_to_the_session_and_key() -> None:
    tokens = CsrfTokens("session-key", "login-key")
    assert tokens.session_token_valid("sid-1", tokens.for_session("sid-1"))
    assert not tokens.session_token_valid("sid-2", tokens.for_session("sid-1"))
    assert not tokens.session_token_valid("sid-1", CsrfTokens("other", "login-key").for_session("sid-1"))
    assert not tokens.session_token_valid("sid-1", None)
    nonce = tokens.new_login_nonce()
    assert tokens.login_token_valid(nonce, tokens.for_login(nonce))
    assert not tokens.login_token_valid(nonce, nonce)  # the cookie value alone is not the token
    assert not tokens.login_token_valid(None, tokens.for_login(nonce))


def test_config_reads_settings_fields_it_finds() -> None:
    class Partial:
        session_idle_timeout_seconds = 60
        login_max_failures = 3

    config = AuthConfig.from_settings(Partial())
    assert config.session_idle_timeout_seconds == 60 and config.login_max_failures == 3
    assert config.session_max_age_seconds == AuthConfig().session_max_age_seconds
    assert config.cookie_secure("https://help.example") and not config.cookie_secure("http://127.0.0.1:8000/")
    assert not AuthConfig(session_cookie_secure=False).cookie_secure("https://help.example")
    with pytest.raises(ValueError):
        AuthConfig(password_min_length=4)
