"""CSRF tokens: one bound to the console session, one for the login form.

The session token is an HMAC of the session id, so it needs no storage, changes with every
login and cannot be computed without the key. The login form has no session yet: a random
nonce goes in an HttpOnly cookie and its HMAC in the form, so a page on another site can
neither read the nonce nor compute the field (a "signed double-submit" token).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from starlette.requests import Request

logger = logging.getLogger(__name__)

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "helpline_login_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfTokens:
    def __init__(self, session_key: str, login_key: str) -> None:
        self._session_key = session_key.encode()
        self._login_key = login_key.encode()

    @staticmethod
    def _mac(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    def for_session(self, session_id: str) -> str:
        return self._mac(self._session_key, session_id)

    def session_token_valid(self, session_id: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.for_session(session_id), presented or "")

    @staticmethod
    def new_login_nonce() -> str:
        return secrets.token_urlsafe(24)

    def for_login(self, nonce: str) -> str:
        return self._mac(self._login_key, nonce)

    def login_token_valid(self, nonce: str | None, presented: str | None) -> bool:
        if not nonce or not presented:
            return False
        return hmac.compare_digest(self.for_login(nonce), presented)


async def presented_token(request: Request) -> str | None:
    """The token a request carries: the X-CSRF-Token header, else the csrf_token form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        # Starlette caches the parsed form on the request, so the route can still read it.
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
