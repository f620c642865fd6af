"""HTTP routes: login page and form, logout, /api/me, and the admin users and audit API.

No ``from __future__ import annotations`` here: FastAPI must see the ``Depends(...)`` in
the routes' annotations as objects, and they name closures of ``build_router``.
"""

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from pydantic import BaseModel, Field, SecretStr

from staff.auth.audit import AuditLog, AuditRecord
from staff.auth.csrf import CSRF_FIELD, LOGIN_CSRF_COOKIE, CsrfTokens, presented_token
from staff.auth.dependencies import AuthenticatedUser, Authenticator, client_ip, safe_next
from staff.auth.pages import (
    LOGIN_CSS,
    LOGIN_CSS_PATH,
    PAGE_SECURITY_HEADERS,
    render_login,
)
from staff.auth.passwords import PasswordPolicyError
from staff.auth.sessions import cookie_header
from staff.auth.throttle import LoginThrottle
from bot.http_types import BigRowId, PlainLine, RowId
from staff.auth.users import (
    DuplicateEmailError,
    LastAdminError,
    UserDirectory,
    UserError,
    UserInfo,
    UserNotFoundError,
    attempt_label,
)

logger = logging.getLogger(__name__)

# The login form's nonce cookie lives as long as someone might leave the page open.
LOGIN_CSRF_MAX_AGE = 2 * 3600
Role = Literal["agent", "supervisor", "admin"]


class Me(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST/PUT/PATCH/DELETE.")
    session_expires_at: datetime


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, info: UserInfo) -> "UserOut":
        return cls(
            id=info.id,
            email=info.email,
            display_name=info.display_name,
            role=info.role,  # type: ignore[arg-type]
            active=info.active,
            created_at=info.created_at,
            last_login_at=info.last_login_at,
        )


class NewUser(BaseModel):
    email: PlainLine = Field(max_length=254)
    display_name: PlainLine = Field(max_length=100)
    role: Role
    password: SecretStr


class UserChange(BaseModel):
    role: Role | None = None
    active: bool | None = None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_label: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] | None
    ip: str | None

    @classmethod
    def of(cls, entry: AuditRecord) -> "AuditOut":
        return cls(**entry.__dict__)


def _user_error(error: UserError | PasswordPolicyError) -> HTTPException:
    if isinstance(error, (DuplicateEmailError, LastAdminError)):
        return HTTPException(409, detail=str(error))
    if isinstance(error, UserNotFoundError):
        return HTTPException(404, detail=str(error))
    return HTTPException(422, detail=str(error))


def build_router(
    authenticator: Authenticator,
    users: UserDirectory,
    csrf: CsrfTokens,
    throttle: LoginThrottle,
    audit: AuditLog,
    *,
    after_login_path: str = "/console",
) -> APIRouter:
    router = APIRouter()
    sessions = authenticator.sessions
    login_path = authenticator.login_path
    api = authenticator.api_prefix

    def login_form(
        request: Request,
        *,
        next_path: str,
        status: int = 200,
        email: str = "",
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        # Keep the visitor's nonce if they have one, so two open tabs both still work.
        nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not 20 <= len(nonce) <= 64:
            nonce = csrf.new_login_nonce()
        page = render_login(
            action=login_path,
            csrf_token=csrf.for_login(nonce),
            next_path=next_path,
            email=email,
            error=error,
        )
        response = HTMLResponse(
            page, status_code=status, headers={**PAGE_SECURITY_HEADERS, **(headers or {})}
        )
        response.raw_headers.append(
            (
                b"set-cookie",
                cookie_header(
                    LOGIN_CSRF_COOKIE, nonce, max_age=LOGIN_CSRF_MAX_AGE, secure=sessions.secure
                ).encode("latin-1"),
            )
        )
        return response

    @router.get(LOGIN_CSS_PATH, include_in_schema=False)
    async def login_css() -> PlainTextResponse:
        return PlainTextResponse(
            LOGIN_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    @router.get(login_path, include_in_schema=False)
    async def login_page(request: Request, next: str | None = None) -> Response:
        target = safe_next(next, after_login_path)
        if await authenticator.optional_user(request) is not None:
            return RedirectResponse(target, status_code=303)
        return login_form(request, next_path=target)

    @router.post(login_path, include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        target = safe_next(form.get("next"), after_login_path)
        ip = client_ip(request)
        presented = form.get(CSRF_FIELD)
        if not csrf.login_token_valid(
            request.cookies.get(LOGIN_CSRF_COOKIE), presented if isinstance(presented, str) else None
        ):
            logger.info("login form refused from %s: CSRF token missing or invalid", ip)
            return login_form(
                request,
                next_path=target,
                status=403,
                email=email,
                error="This sign-in form expired or did not come from this site. Please try again.",
            )
        if not email or not password:
            return login_form(
                request, next_path=target, status=400, email=email, error="Enter your email and password."
            )
        key = throttle.key(attempt_label(email), ip)
        wait = await throttle.begin(key)
        if wait is not None:
            logger.warning("login throttled for %s from %s (%d s left)", attempt_label(email), ip, wait)
            minutes = max(1, round(wait / 60))
            return login_form(
                request,
                next_path=target,
                status=429,
                email=email,
                error=f"Too many failed sign-in attempts. Try again in about {minutes} minute{'s' if minutes > 1 else ''}.",
                headers={"Retry-After": str(wait)},
            )
        outcome = await users.check_password_async(email, password, ip)
        if outcome.user is None:
            logger.info("login failed for %s from %s: %s", attempt_label(email), ip, outcome.failure)
            # One message for every failure: which part was wrong is no one's business.
            return login_form(
                request, next_path=target, status=401, email=email, error="Email or password is incorrect."
            )
        await throttle.succeeded(key)
        user = outcome.user
        logger.info("user %s signed in from %s", user.id, ip)
        claims = sessions.issue(user.id, user.session_version)
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
        response.raw_headers.append((b"set-cookie", sessions.set_cookie_header(claims).encode("latin-1")))
        response.raw_headers.append(
            (
                b"set-cookie",
                cookie_header(LOGIN_CSRF_COOKIE, "", max_age=0, secure=sessions.secure).encode("latin-1"),
            )
        )
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        """Ends the session everywhere (session_version bump): see docs/access.md."""
        found = await authenticator.user_for_cookie(
            request.cookies.get(sessions.cookie_name), client_ip(request)
        )
        if found is not None:
            user, claims = found
            # Checked by hand (not through current_user) so a visitor whose session has
            # already ended can still "log out" and land on the login page.
            if not csrf.session_token_valid(claims.session_id, await presented_token(request)):
                return JSONResponse({"detail": "CSRF token missing or invalid"}, status_code=403)
            await users.run(lambda: users.end_sessions(user.id, user.actor))
            logger.info("user %s signed out", user.id)
        response = RedirectResponse(login_path, status_code=303, headers={"Cache-Control": "no-store"})
        response.raw_headers.append((b"set-cookie", sessions.clear_cookie_header().encode("latin-1")))
        return response

    @router.get(f"{api}/me", response_model=Me, tags=["access"])
    async def me(user: Annotated[AuthenticatedUser, Depends(authenticator.current_user)]) -> Me:
        """The signed-in user, with the CSRF token the console sends on unsafe requests."""
        return Me(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,  # type: ignore[arg-type]
            csrf_token=user.csrf_token,
            session_expires_at=user.session_expires_at,
        )

    admin = authenticator.require_roles("admin")
    overseer = authenticator.require_roles("supervisor")

    @router.get(f"{api}/users", response_model=list[UserOut], tags=["access"])
    async def list_users(_: Annotated[AuthenticatedUser, Depends(admin)]) -> list[UserOut]:
        """Every user, active or not (admin)."""
        return [UserOut.of(u) for u in await users.run(users.list)]

    @router.post(f"{api}/users", response_model=UserOut, status_code=201, tags=["access"])
    async def create_user(body: NewUser, actor: Annotated[AuthenticatedUser, Depends(admin)]) -> UserOut:
        """Create a user (admin). 409 if the email exists, 422 if the password is too short."""
        try:
            created = await users.passwords.run_limited(
                lambda: users.create(
                    body.email, body.display_name, body.role, body.password.get_secret_value(), actor.actor
                )
            )
        except (UserError, PasswordPolicyError) as error:
            raise _user_error(error) from None
        return UserOut.of(created)

    @router.patch(f"{api}/users/{{user_id}}", response_model=UserOut, tags=["access"])
    async def change_user(
        user_id: RowId, body: UserChange, actor: Annotated[AuthenticatedUser, Depends(admin)]
    ) -> UserOut:
        """Change role and/or deactivate/reactivate (admin). Ends the user's sessions.

        409 when it would leave no active admin.
        """

        def work() -> UserInfo:
            info = users.get(user_id)
            if info is None:
                raise UserNotFoundError(f"no user with id {user_id}")
            if body.role is not None:
                info = users.set_role(user_id, body.role, actor.actor)
            if body.active is not None:
                info = users.set_active(user_id, body.active, actor.actor)
            return info

        try:
            return UserOut.of(await users.run(work))
        except UserError as error:
            raise _user_error(error) from None

    @router.get(f"{api}/audit", response_model=list[AuditOut], tags=["access"])
    async def audit_entries(
        _: Annotated[AuthenticatedUser, Depends(overseer)],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        before_id: BigRowId | None = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        actor_user_id: RowId | None = None,
        target_type: Annotated[str | None, Query(max_length=64)] = None,
        target_id: Annotated[str | None, Query(max_length=128)] = None,
    ) -> list[AuditOut]:
        """The audit log, newest first (supervisor, admin). Page with before_id."""
        entries = await audit.entries(
            limit=limit,
            before_id=before_id,
            action=action,
            actor_user_id=actor_user_id,
            target_type=target_type,
            target_id=target_id,
        )
        return [AuditOut.of(e) for e in entries]

    return router
