"""Console sessions in signed cookies.

The cookie holds the user id, the user's session_version when it was issued, a random
session id (to which the CSRF token is bound), when it was issued and when it was last
refreshed, signed with a key derived from the secret key for this purpose alone. Nothing
is stored server-side: the user row's session_version revokes every cookie of a user at
once (logout, deactivation, role or password change), and each request re-reads the user.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

logger = logging.getLogger(__name__)

SESSION_COOKIE = "helpline_session"
# Browsers only accept a "__Host-" cookie when it is Secure, host-only and for Path=/,
# so on https no subdomain can plant or overwrite it.
SECURE_SESSION_COOKIE = "__Host-helpline_session"
SALT = "helpline.console-session.v1"


@dataclass(frozen=True)
class SessionClaims:
    user_id: int
    session_version: int
    session_id: str
    issued_at: float
    refreshed_at: float


def cookie_header(
    name: str, value: str, *, max_age: int, secure: bool, http_only: bool = True, same_site: str = "Lax"
) -> str:
    """One Set-Cookie header value (max_age 0 deletes the cookie)."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["max-age"] = str(max_age)
    morsel["samesite"] = same_site
    if http_only:
        morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def parse_cookie_header(header: str) -> dict[str, str]:
    """Cookies from a Cookie request header (as in a socket.io environ's HTTP_COOKIE)."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


class SessionCookies:
    def __init__(
        self,
        signing_key: str,
        *,
        max_age_seconds: int,
        idle_timeout_seconds: int,
        secure: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeSerializer(
            signing_key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self.max_age_seconds = max_age_seconds
        self.idle_timeout_seconds = idle_timeout_seconds
        self.secure = secure
        self.cookie_name = SECURE_SESSION_COOKIE if secure else SESSION_COOKIE
        self._clock = clock
        # Re-issuing the cookie on every request would be wasteful; once a minute (or a
        # quarter of the idle timeout, if shorter) keeps the idle clock accurate enough.
        self.refresh_after_seconds = min(60.0, idle_timeout_seconds / 4)

    def issue(self, user_id: int, session_version: int) -> SessionClaims:
        now = self._clock()
        return SessionClaims(user_id, session_version, secrets.token_urlsafe(18), now, now)

    def encode(self, claims: SessionClaims) -> str:
        return self._serializer.dumps(
            {
                "u": claims.user_id,
                "v": claims.session_version,
                "s": claims.session_id,
                "i": claims.issued_at,
                "r": claims.refreshed_at,
            }
        )

    def decode(self, value: str | None) -> SessionClaims | None:
        """The claims of a genuine, unexpired cookie; None for anything else."""
        if not value:
            return None
        try:
            payload: Any = self._serializer.loads(value)
            claims = SessionClaims(
                user_id=int(payload["u"]),
                session_version=int(payload["v"]),
                session_id=str(payload["s"]),
                issued_at=float(payload["i"]),
                refreshed_at=float(payload["r"]),
            )
        except BadSignature:
            logger.info("session cookie with a bad signature refused")
            return None
        except (KeyError, TypeError, ValueError):
            logger.info("malformed session cookie refused")
            return None
        now = self._clock()
        if now - claims.issued_at > self.max_age_seconds:
            return None
        if now - claims.refreshed_at > self.idle_timeout_seconds:
            return None
        return claims

    def needs_refresh(self, claims: SessionClaims) -> bool:
        return self._clock() - claims.refreshed_at >= self.refresh_after_seconds

    def refreshed(self, claims: SessionClaims) -> SessionClaims:
        return replace(claims, refreshed_at=self._clock())

    def set_cookie_header(self, claims: SessionClaims) -> str:
        # The browser may keep it until the absolute limit; the idle limit is checked by us.
        remaining = int(claims.issued_at + self.max_age_seconds - self._clock())
        return cookie_header(
            self.cookie_name, self.encode(claims), max_age=max(remaining, 0), secure=self.secure
        )

    def clear_cookie_header(self) -> str:
        return cookie_header(self.cookie_name, "", max_age=0, secure=self.secure)

    def expires_at(self, claims: SessionClaims) -> float:
        """When the session ends if it stays in use (the absolute limit)."""
        return claims.issued_at + self.max_age_seconds
