"""Tables owned by authentication and access: users and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.transcript.models import NAMING, UTCDateTime, utcnow

# Ordered from least to most powerful: each role may do everything the ones before it may.
ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
AuditId = BigInteger().with_variant(Integer(), "sqlite")


class AuthBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(AuthBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Stored lower-cased (staff.auth.users.normalize_email); the unique index on lower(email)
    # keeps "Ann@x" and "ann@x" from becoming two accounts even if a writer forgets.
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every session cookie carries the version it was issued under; bumping it (logout,
    # deactivation, role or password change) ends all of the user's sessions at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("uq_users_email_lower", func.lower(email), unique=True),
        CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),
    )


class AuditEntry(AuthBase):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Kept when the user is deleted (SET NULL): actor_label still says who it was.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Who acted, readable without a join: an email, "cli:<os user>", "anonymous".
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)
