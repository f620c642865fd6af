"""The one call that wires authentication into the gateway: ``build_auth``."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.audit import AuditLog
from staff.auth.config import AuthConfig
from staff.auth.csrf import CsrfTokens
from staff.auth.dependencies import (
    AuthenticatedUser,
    Authenticator,
    SessionRefreshMiddleware,
)
from staff.auth.passwords import Passwords
from staff.auth.routes import build_router
from staff.auth.sessions import SessionCookies
from bot.ratelimit import WindowStore
from staff.auth.throttle import LoginThrottle
from staff.auth.users import UserDirectory
from bot.secrets import derive, secret_key
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class AuthComponents:
    """Everything the gateway needs from this package.

    ``install(app)`` mounts the routes and the session-refresh middleware; console routes
    then depend on ``current_user`` or ``require_roles(...)``, and the console's socket.io
    ``connect`` handler calls ``socket_user(environ, auth)``.
    """

    router: APIRouter
    authenticator: Authenticator
    users: UserDirectory
    audit: AuditLog
    throttle: LoginThrottle
    config: AuthConfig

    @property
    def current_user(self) -> Callable[..., Awaitable[AuthenticatedUser]]:
        return self.authenticator.current_user

    def require_roles(self, *roles: str) -> Callable[..., Awaitable[AuthenticatedUser]]:
        return self.authenticator.require_roles(*roles)

    async def socket_user(
        self, environ: Mapping[str, Any], auth: Mapping[str, Any] | None = None, **options: Any
    ) -> AuthenticatedUser | None:
        return await self.authenticator.socket_user(environ, auth, **options)

    def install(self, app: FastAPI) -> None:
        app.include_router(self.router)
        app.add_middleware(SessionRefreshMiddleware, cookie_name=self.authenticator.sessions.cookie_name)


def build_auth(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    config: AuthConfig | None = None,
    passwords: Passwords | None = None,
    clock: Callable[[], float] | None = None,
    after_login_path: str = "/console",
    api_prefix: str = "/api",
    rate_store: WindowStore | None = None,
) -> AuthComponents:
    """Build users, sessions, CSRF, throttle, audit and routes from settings.

    ``passwords`` and ``clock`` exist for tests (cheap argon2 parameters, a clock they
    control). Each purpose gets its own key derived from the secret key.
    """
    config = config or AuthConfig.from_settings(settings)
    key = secret_key(settings)
    passwords = passwords or Passwords(min_length=config.password_min_length)
    users = UserDirectory(session_factory, passwords)
    sessions = SessionCookies(
        derive(key, "console-session-cookie"),
        max_age_seconds=config.session_max_age_seconds,
        idle_timeout_seconds=config.session_idle_timeout_seconds,
        secure=config.cookie_secure(settings.public_url),
        clock=clock or time.time,
    )
    csrf = CsrfTokens(derive(key, "console-csrf-token"), derive(key, "login-form-csrf-token"))
    # rate_store: Redis when the gateway runs as replicas, so they share one count.
    throttle = LoginThrottle(
        config.login_max_failures, config.login_failure_window_seconds, clock=clock or time.monotonic,
        store=rate_store,
    )
    audit = AuditLog(session_factory)
    authenticator = Authenticator(users, sessions, csrf, api_prefix=api_prefix)
    router = build_router(authenticator, users, csrf, throttle, audit, after_login_path=after_login_path)
    if not sessions.secure:
        logger.info("session cookies are not marked Secure (public URL is not https)")
    return AuthComponents(router, authenticator, users, audit, throttle, config)
