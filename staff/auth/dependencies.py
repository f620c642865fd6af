"""FastAPI dependencies: who is signed in, and may they do this?

``current_user`` also enforces CSRF on every unsafe method (POST, PUT, PATCH, DELETE), so
any route that requires a user is CSRF-protected by construction: no console endpoint can
forget it. Role checks build on it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from staff.auth.audit import Actor
from staff.auth.csrf import CSRF_FIELD, UNSAFE_METHODS, CsrfTokens, presented_token
from staff.auth.models import ROLES
from staff.auth.sessions import SessionClaims, SessionCookies, parse_cookie_header
from staff.auth.users import UserDirectory, UserInfo

logger = logging.getLogger(__name__)

# Where a request's refreshed session cookie waits for SessionRefreshMiddleware.
REFRESH_SLOT = "helpline.auth.refreshed_session_cookie"
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class AuthenticatedUser:
    """The signed-in user of one request (or socket), re-read from the database."""

    id: int
    email: str
    display_name: str
    role: str
    session_version: int
    session_id: str
    csrf_token: str
    session_expires_at: datetime
    ip: str | None = None

    @property
    def actor(self) -> Actor:
        """For audit.record(..., actor=user.actor)."""
        return Actor(user_id=self.id, label=self.email, ip=self.ip)

    def has_role(self, *roles: str) -> bool:
        return role_allows(self.role, roles)


def role_allows(role: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """Roles are ranked agent < supervisor < admin; a role may do what lower ones may."""
    if role not in ROLE_RANK or not allowed:
        return False
    return ROLE_RANK[role] >= min(ROLE_RANK[r] for r in allowed)


def client_ip(request: Request) -> str | None:
    # Behind a reverse proxy run uvicorn with --proxy-headers/--forwarded-allow-ips so this
    # is the customer's address, not the proxy's.
    return request.client.host if request.client else None


def safe_next(target: object, default: str) -> str:
    """A local path to go to after login; anything else (other hosts, //x) is ignored."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


class Authenticator:
    def __init__(
        self,
        users: UserDirectory,
        sessions: SessionCookies,
        csrf: CsrfTokens,
        *,
        login_path: str = "/login",
        api_prefix: str = "/api",
    ) -> None:
        self.users = users
        self.sessions = sessions
        self.csrf = csrf
        self.login_path = login_path
        self.api_prefix = api_prefix.rstrip("/")

    # -- shared by HTTP and socket.io ---------------------------------------------------

    async def user_for_cookie(
        self, cookie: str | None, ip: str | None
    ) -> tuple[AuthenticatedUser, SessionClaims] | None:
        claims = self.sessions.decode(cookie)
        if claims is None:
            return None
        info = await self.users.session_user_async(claims.user_id, claims.session_version)
        if info is None:
            return None
        return self._authenticated(info, claims, ip), claims

    def _authenticated(self, info: UserInfo, claims: SessionClaims, ip: str | None) -> AuthenticatedUser:
        return AuthenticatedUser(
            id=info.id,
            email=info.email,
            display_name=info.display_name,
            role=info.role,
            session_version=info.session_version,
            session_id=claims.session_id,
            csrf_token=self.csrf.for_session(claims.session_id),
            session_expires_at=datetime.fromtimestamp(self.sessions.expires_at(claims), timezone.utc),
            ip=ip,
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _is_api(self, request: Request) -> bool:
        path = request.url.path
        return path == self.api_prefix or path.startswith(self.api_prefix + "/")

    def _not_signed_in(self, request: Request, had_cookie: bool) -> HTTPException:
        headers: dict[str, str] = {}
        if had_cookie:
            # Drop the dead cookie so the browser stops sending it.
            headers["Set-Cookie"] = self.sessions.clear_cookie_header()
        if request.method in ("GET", "HEAD") and not self._is_api(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            headers["Location"] = f"{self.login_path}?next={quote(target, safe='')}"
            return HTTPException(status_code=303, detail="sign in required", headers=headers)
        return HTTPException(status_code=401, detail="not signed in or session expired", headers=headers)

    async def optional_user(self, request: Request) -> AuthenticatedUser | None:
        """The signed-in user, or None; no CSRF check (for pages that work either way)."""
        found = await self.user_for_cookie(request.cookies.get(self.sessions.cookie_name), client_ip(request))
        return found[0] if found else None

    async def current_user(self, request: Request) -> AuthenticatedUser:
        """Dependency: the signed-in user; 401 (API) or redirect to login (pages) otherwise.

        Unsafe methods must also carry the session's CSRF token (X-CSRF-Token header or
        csrf_token form field), else 403.
        """
        cookie = request.cookies.get(self.sessions.cookie_name)
        found = await self.user_for_cookie(cookie, client_ip(request))
        if found is None:
            raise self._not_signed_in(request, had_cookie=cookie is not None)
        user, claims = found
        if request.method in UNSAFE_METHODS:
            presented = await presented_token(request)
            if not presented:
                raise HTTPException(
                    403, detail=f"CSRF token missing: send the X-CSRF-Token header or the {CSRF_FIELD} field"
                )
            if not self.csrf.session_token_valid(claims.session_id, presented):
                logger.info(
                    "CSRF token mismatch for user %s on %s %s", user.id, request.method, request.url.path
                )
                raise HTTPException(403, detail="CSRF token invalid for this session")
        if self.sessions.needs_refresh(claims):
            slot = request.scope.get(REFRESH_SLOT)
            if isinstance(slot, list):
                slot.append(self.sessions.set_cookie_header(self.sessions.refreshed(claims)))
        return user

    def require_roles(self, *roles: str) -> Callable[..., Awaitable[AuthenticatedUser]]:
        """Dependency factory: the user must hold one of ``roles`` or a higher one.

        ``require_roles("agent")`` admits agents, supervisors and admins;
        ``require_roles("admin")`` admits only admins.
        """
        unknown = [r for r in roles if r not in ROLE_RANK]
        if not roles or unknown:
            raise ValueError(f"require_roles needs roles from {ROLES}, got {roles}")
        needed = " or ".join(roles)

        async def user_with_role(user: AuthenticatedUser = Depends(self.current_user)) -> AuthenticatedUser:
            if not role_allows(user.role, roles):
                raise HTTPException(403, detail=f"requires role {needed}; you are {user.role}")
            return user

        user_with_role.__name__ = f"require_{'_or_'.join(roles)}"
        return user_with_role

    # -- socket.io ------------------------------------------------------------------------

    async def socket_user(
        self,
        environ: Mapping[str, Any],
        auth: Mapping[str, Any] | None = None,
        *,
        require_csrf: bool = True,
        allowed_origins: tuple[str, ...] = (),
    ) -> AuthenticatedUser | None:
        """The user of a socket.io connection (``connect(sid, environ, auth)``), or None.

        Validates the same session cookie as HTTP requests. SameSite=Lax keeps the cookie
        off cross-site handshakes in current browsers, but not off a sibling subdomain's
        (same site) or in older browsers, and WebSocket handshakes are exempt from CORS; so
        it also requires a same-origin Origin header (or one of ``allowed_origins``) and, by
        default, the session's CSRF token in the client's ``auth`` payload:
        ``io({auth: {csrf_token}})``.
        """
        if not _origin_allowed(environ, allowed_origins):
            logger.info("socket connection refused: foreign origin %r", environ.get("HTTP_ORIGIN"))
            return None
        cookies = parse_cookie_header(str(environ.get("HTTP_COOKIE", "")))
        ip = environ.get("REMOTE_ADDR")
        found = await self.user_for_cookie(cookies.get(self.sessions.cookie_name), str(ip) if ip else None)
        if found is None:
            return None
        user, claims = found
        if require_csrf:
            presented = (auth or {}).get(CSRF_FIELD)
            if not isinstance(presented, str) or not self.csrf.session_token_valid(
                claims.session_id, presented
            ):
                logger.info("socket connection of user %s refused: CSRF token missing or invalid", user.id)
                return None
        return user


def _origin_allowed(environ: Mapping[str, Any], allowed_origins: tuple[str, ...]) -> bool:
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # not a browser (browsers always send Origin on WebSocket and CORS)
    if origin in allowed_origins:
        return True
    host = environ.get("HTTP_HOST")
    return bool(host) and urlsplit(str(origin)).netloc.lower() == str(host).lower()


class SessionRefreshMiddleware:
    """Adds the refreshed session cookie (sliding idle timeout) to responses.

    A dependency cannot add headers to a route that returns its own Response object, so
    ``current_user`` leaves the new cookie in the request scope and this writes it out.
    """

    def __init__(self, app: ASGIApp, cookie_name: str) -> None:
        self.app = app
        self._cookie_prefix = (cookie_name + "=").encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[str] = []
        scope[REFRESH_SLOT] = pending

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and pending:
                headers = list(message.get("headers", []))
                # A response that sets the session cookie itself (login, logout) wins.
                if not any(
                    k.lower() == b"set-cookie" and v.startswith(self._cookie_prefix) for k, v in headers
                ):
                    headers.append((b"set-cookie", pending[-1].encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
