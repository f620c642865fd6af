"""The audit log: who did what, to what, from where.

``record`` writes one row inside the caller's transaction, so an action and its audit
entry commit or roll back together (the console records claims, messages and resolutions
through it). ``AuditLog`` wraps it for async callers that have no transaction open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.models import AuditEntry
from bot.db import in_transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

REDACTED = "[redacted]"
# Keys whose values never reach the log, whoever passes them: a caller recording a whole
# request body must not be able to store a password or a token by accident.
SECRET_KEY_PATTERN = re.compile(
    r"passw(or)?d|passphrase|pwd|secret|token|hash|cookie|csrf|authori[sz]ation|api[_-]?key", re.I
)
MAX_DETAIL_STRING = 2000
LABEL_LENGTH = 254


class AuditAction:
    """Action names written by this package; other packages use their own "noun.verb"."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    USER_CREATE = "user.create"
    USER_SET_ROLE = "user.set_role"
    USER_DEACTIVATE = "user.deactivate"
    USER_ACTIVATE = "user.activate"
    USER_SET_PASSWORD = "user.set_password"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, the CLI's operator, or nobody yet (a login)."""

    user_id: int | None
    label: str
    ip: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    """A read-only copy of one audit row."""

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
    def of(cls, row: AuditEntry) -> AuditRecord:
        return cls(
            id=row.id,
            at=row.at,
            actor_user_id=row.actor_user_id,
            actor_label=row.actor_label,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            details=row.details,
            ip=row.ip,
        )


def scrub(value: Any) -> Any:
    """A JSON-safe copy of ``value`` with secret-looking keys redacted."""
    if isinstance(value, Mapping):
        return {
            # A flag or a missing value cannot leak a secret ({"rehashed": True} is fine).
            str(key): REDACTED
            if SECRET_KEY_PATTERN.search(str(key)) and not (item is None or isinstance(item, bool))
            else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= MAX_DETAIL_STRING else text[:MAX_DETAIL_STRING] + "…"


def record(
    session: Session,
    action: str,
    *,
    actor: Actor | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one audit row to ``session`` (committed with the caller's transaction).

    ``ip`` defaults to the actor's; ``details`` are scrubbed of secret-looking keys.
    """
    who = actor or Actor(user_id=None, label="anonymous")
    entry = AuditEntry(
        actor_user_id=who.user_id,
        actor_label=who.label[:LABEL_LENGTH],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=scrub(details) if details else None,
        ip=ip if ip is not None else who.ip,
    )
    session.add(entry)
    return entry


class AuditLog:
    """Async access to the audit log for callers without a transaction of their own."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._sessions, work)

    async def record(
        self,
        action: str,
        *,
        actor: Actor | None = None,
        target_type: str | None = None,
        target_id: str | int | None = None,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        await self._run(
            lambda s: record(
                s,
                action,
                actor=actor,
                target_type=target_type,
                target_id=target_id,
                details=details,
                ip=ip,
            )
        )

    async def entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        action: str | None = None,
        actor_user_id: int | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
    ) -> list[AuditRecord]:
        """Newest first; page with ``before_id`` (the smallest id of the previous page)."""

        def work(session: Session) -> list[AuditRecord]:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if before_id is not None:
                query = query.where(AuditEntry.id < before_id)
            if action is not None:
                query = query.where(AuditEntry.action == action)
            if actor_user_id is not None:
                query = query.where(AuditEntry.actor_user_id == actor_user_id)
            if target_type is not None:
                query = query.where(AuditEntry.target_type == target_type)
            if target_id is not None:
                query = query.where(AuditEntry.target_id == target_id)
            return [AuditRecord.of(row) for row in session.scalars(query)]

        return await self._run(work)
