"""User accounts: create, list, change role, (de)activate, set password, authenticate.

``UserDirectory`` has blocking methods (the CLI, worker threads) and async ones (request
handlers) that run the same work in a worker thread. Password hashing happens before a
transaction opens, so no row lock or connection is held during the slow part. Every change
writes its audit row in the same transaction as the change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.audit import Actor, AuditAction, record
from staff.auth.models import ROLES, User
from staff.auth.passwords import Passwords
from bot.http_types import text_problem
from bot.transcript.models import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Deliberately loose: one "@", something on each side, no spaces. Deliverability is the
# admin's business; this only stops typos and passwords typed into the email field.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")


class UserError(Exception):
    """A refused user operation; the message is safe to show (it never holds a password)."""


class InvalidEmailError(UserError):
    pass


class DuplicateEmailError(UserError):
    pass


class UnknownRoleError(UserError):
    pass


class UserNotFoundError(UserError):
    pass


class LastAdminError(UserError):
    """Refused: the change would leave no active admin to manage users."""


@dataclass(frozen=True)
class UserInfo:
    """A read-only copy of a user row, safe to hand out (no password hash)."""

    id: int
    email: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    session_version: int

    @classmethod
    def of(cls, row: User) -> UserInfo:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            active=row.active,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            session_version=row.session_version,
        )


def normalize_email(email: str) -> str:
    normalized = email.strip().lower()
    if len(normalized) > 254 or not EMAIL_PATTERN.match(normalized):
        raise InvalidEmailError("not a valid email address")
    # NUL and other control characters are not \s: refuse them explicitly (CLI and API).
    if text_problem(normalized, multiline=False):
        raise InvalidEmailError("not a valid email address: it " + str(text_problem(normalized, multiline=False)))
    return normalized


def attempt_label(email: str) -> str:
    """How a login attempt names its account in logs and the audit log.

    People type their password into the email field; storing that would put a password in
    the log, so anything that does not look like an email is not stored.
    """
    try:
        return normalize_email(email)
    except InvalidEmailError:
        return "[not an email]"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownRoleError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return role


def _display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise UserError("display name must be 1 to 100 characters")
    problem = text_problem(cleaned, multiline=False)
    if problem:
        raise UserError(f"display name {problem}")
    return cleaned


def _by_email(session: Session, email: str) -> User | None:
    # lower(email) matches the unique expression index, so this is an index lookup.
    return session.scalar(select(User).where(func.lower(User.email) == email))


def _require(session: Session, email: str) -> User:
    user = _by_email(session, normalize_email(email))
    if user is None:
        raise UserNotFoundError(f"no user with email {normalize_email(email)}")
    return user


def _require_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFoundError(f"no user with id {user_id}")
    return user


def _info(user: User | None) -> UserInfo | None:
    return UserInfo.of(user) if user is not None else None


@dataclass(frozen=True)
class _Credentials:
    """What a login needs from the row, copied out so no ORM object leaves the session."""

    user_id: int
    active: bool
    password_hash: str


def _credentials(user: User | None) -> _Credentials | None:
    return _Credentials(user.id, user.active, user.password_hash) if user is not None else None


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate the last active admin."""
    if user.role != "admin" or not user.active:
        return
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    )
    if (admins or 0) <= 1:
        raise LastAdminError("refused: this is the last active admin; add another admin first")


@dataclass(frozen=True)
class LoginOutcome:
    """The result of checking a password: the user on success, else why it failed."""

    user: UserInfo | None
    failure: str | None = None  # unknown_user | inactive | bad_password


class UserDirectory:
    def __init__(self, session_factory: sessionmaker[Session], passwords: Passwords) -> None:
        self._sessions = session_factory
        self.passwords = passwords

    def _transaction(self, work: Callable[[Session], T]) -> T:
        with self._sessions.begin() as session:
            return work(session)

    async def _in_thread(self, work: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(work)

    # -- blocking -----------------------------------------------------------------------

    def create(self, email: str, display_name: str, role: str, password: str, actor: Actor) -> UserInfo:
        email = normalize_email(email)
        display_name = _display_name(display_name)
        check_role(role)
        if self._transaction(lambda s: _by_email(s, email)) is not None:
            raise DuplicateEmailError(f"a user with email {email} already exists")
        password_hash = self.passwords.hash(password)

        def work(session: Session) -> UserInfo:
            user = User(email=email, display_name=display_name, role=role, password_hash=password_hash)
            session.add(user)
            session.flush()
            record(
                session,
                AuditAction.USER_CREATE,
                actor=actor,
                target_type="user",
                target_id=user.id,
                details={"email": email, "role": role},
            )
            return UserInfo.of(user)

        try:
            created = self._transaction(work)
        except IntegrityError:
            # Another writer created the same email between our check and our insert.
            raise DuplicateEmailError(f"a user with email {email} already exists") from None
        logger.info("user %s created with role %s by %s", created.id, role, actor.label)
        return created

    def list(self) -> list[UserInfo]:
        return self._transaction(
            lambda s: [UserInfo.of(u) for u in s.scalars(select(User).order_by(User.id))]
        )

    def get(self, user_id: int) -> UserInfo | None:
        return self._transaction(lambda s: _info(s.get(User, user_id)))

    def find(self, email: str) -> UserInfo | None:
        email = normalize_email(email)
        return self._transaction(lambda s: _info(_by_email(s, email)))

    def set_role(self, user: int | str, role: str, actor: Actor) -> UserInfo:
        """Change a role. The user's sessions end: they sign in again under the new role."""
        check_role(role)

        def work(session: Session) -> UserInfo:
            row = self._locate(session, user)
            if row.role == role:
                return UserInfo.of(row)
            if role != "admin":
                _keep_an_admin(session, row)
            record(
                session,
                AuditAction.USER_SET_ROLE,
                actor=actor,
                target_type="user",
                target_id=row.id,
                details={"email": row.email, "from": row.role, "to": role},
            )
            row.role = role
            row.session_version += 1
            return UserInfo.of(row)

        return self._transaction(work)

    def set_active(self, user: int | str, active: bool, actor: Actor) -> UserInfo:
        """Deactivation ends every session of the user at once (session_version bump)."""

        def work(session: Session) -> UserInfo:
            row = self._locate(session, user)
            if row.active == active:
                return UserInfo.of(row)
            if not active:
                _keep_an_admin(session, row)
            action = AuditAction.USER_ACTIVATE if active else AuditAction.USER_DEACTIVATE
            record(
                session,
                action,
                actor=actor,
                target_type="user",
                target_id=row.id,
                details={"email": row.email},
            )
            row.active = active
            row.session_version += 1
            return UserInfo.of(row)

        return self._transaction(work)

    def set_password(self, user: int | str, password: str, actor: Actor) -> UserInfo:
        """A new password ends every session of the user (a stolen cookie stops working)."""
        password_hash = self.passwords.hash(password)

        def work(session: Session) -> UserInfo:
            row = self._locate(session, user)
            record(
                session,
                AuditAction.USER_SET_PASSWORD,
                actor=actor,
                target_type="user",
                target_id=row.id,
                details={"email": row.email},
            )
            row.password_hash = password_hash
            row.session_version += 1
            return UserInfo.of(row)

        return self._transaction(work)

    def end_sessions(self, user_id: int, actor: Actor, action: str = AuditAction.LOGOUT) -> None:
        """Bump session_version: every cookie issued so far for this user stops working."""

        def work(session: Session) -> None:
            row = _require_id(session, user_id)
            row.session_version += 1
            record(session, action, actor=actor, target_type="user", target_id=row.id)

        self._transaction(work)

    def session_user(self, user_id: int, session_version: int) -> UserInfo | None:
        """The user a session cookie names, if it is still valid (active, same version)."""

        def work(session: Session) -> UserInfo | None:
            row = session.get(User, user_id)
            if row is None or not row.active or row.session_version != session_version:
                return None
            return UserInfo.of(row)

        return self._transaction(work)

    def check_password(self, email: str, password: str, ip: str | None) -> LoginOutcome:
        """Verify a login; rehash when the hash parameters changed; audit either way.

        Unknown and inactive accounts cost the same argon2 time as a wrong password.
        """
        label = attempt_label(email)
        found: _Credentials | None = None
        if label != "[not an email]":
            found = self._transaction(lambda s: _credentials(_by_email(s, label)))
        if found is None or not found.active:
            self.passwords.burn_dummy(password)
            failure = "unknown_user" if found is None else "inactive"
            self._audit_failure(label, found.user_id if found else None, failure, ip)
            return LoginOutcome(None, failure)
        user_id, stored_hash = found.user_id, found.password_hash
        if not self.passwords.verify(stored_hash, password):
            self._audit_failure(label, user_id, "bad_password", ip)
            return LoginOutcome(None, "bad_password")
        # Rehash even if the password no longer meets a since-tightened policy: the user
        # proved they know it, and refusing would lock them out on the next parameter change.
        new_hash = (
            self.passwords.hash_unchecked(password) if self.passwords.needs_rehash(stored_hash) else None
        )

        def work(session: Session) -> UserInfo:
            user = _require_id(session, user_id)
            # Only replace the hash we verified; a concurrent set-password wins.
            if new_hash is not None and user.password_hash == stored_hash:
                user.password_hash = new_hash
            user.last_login_at = utcnow()
            record(
                session,
                AuditAction.LOGIN,
                actor=Actor(user.id, user.email, ip),
                target_type="user",
                target_id=user.id,
                details={"rehashed": True} if new_hash else None,
            )
            return UserInfo.of(user)

        user = self._transaction(work)
        if new_hash is not None:
            logger.info("password hash of user %s upgraded to current parameters", user.id)
        return LoginOutcome(user)

    def _audit_failure(self, label: str, user_id: int | None, failure: str, ip: str | None) -> None:
        def work(session: Session) -> None:
            record(
                session,
                AuditAction.LOGIN_FAILED,
                actor=Actor(None, label, ip),
                target_type="user" if user_id else None,
                target_id=user_id,
                details={"reason": failure},
            )

        self._transaction(work)

    def _locate(self, session: Session, user: int | str) -> User:
        return _require_id(session, user) if isinstance(user, int) else _require(session, user)

    # -- async (request handlers) -------------------------------------------------------

    async def check_password_async(self, email: str, password: str, ip: str | None) -> LoginOutcome:
        return await self.passwords.run_limited(lambda: self.check_password(email, password, ip))

    async def session_user_async(self, user_id: int, session_version: int) -> UserInfo | None:
        return await self._in_thread(lambda: self.session_user(user_id, session_version))

    async def run(self, work: Callable[[], T]) -> T:
        """Run any blocking method of this directory in a worker thread."""
        return await self._in_thread(work)
