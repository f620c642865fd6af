"""Agent presence: online / away / offline, and who counts as online."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from handoff.models import AgentPresence


class PresenceStatus(StrEnum):
    ONLINE = "online"  # takes new tickets
    AWAY = "away"  # connected, keeps their conversations, takes no new ones
    OFFLINE = "offline"  # disconnected; keeps conversations for the grace period


def parse_presence(status: str | PresenceStatus) -> PresenceStatus:
    try:
        return PresenceStatus(status)
    except ValueError:
        raise ValueError(f"unknown presence {status!r}; use online, away or offline") from None


def upsert_presence(
    session: Session, agent_id: int, now: datetime, status: PresenceStatus | None
) -> AgentPresence:
    """Record a sign of life; change the status if one is given (None keeps it)."""
    row = session.get(AgentPresence, agent_id)
    if row is None:
        # Signing in and the console's socket both record an agent's first sign of life,
        # often in the same instant: insert only if absent, so the later one updates the
        # row the earlier one made instead of failing on the agent's key.
        session.execute(_insert_if_absent(session).values(
            agent_id=agent_id, status=status or PresenceStatus.ONLINE, last_seen_at=now, changed_at=now,
        ))
        row = session.get(AgentPresence, agent_id, populate_existing=True)
        assert row is not None
    row.last_seen_at = now
    if status is not None and row.status != status:
        row.status = status
        row.changed_at = now
    return row


def _insert_if_absent(session: Session) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on the agent's key (SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(AgentPresence).on_conflict_do_nothing(index_elements=["agent_id"])
    if dialect == "sqlite":
        return sqlite.insert(AgentPresence).on_conflict_do_nothing(index_elements=["agent_id"])
    raise NotImplementedError(f"agent presence needs SQLite or PostgreSQL, not {dialect}")


def online_agent_ids(
    session: Session, now: datetime, timeout: timedelta | None
) -> list[int]:
    query = select(AgentPresence.agent_id).where(AgentPresence.status == PresenceStatus.ONLINE)
    if timeout is not None:
        query = query.where(AgentPresence.last_seen_at >= now - timeout)
    return list(session.scalars(query.order_by(AgentPresence.agent_id)))


def offline_since(
    row: AgentPresence | None, now: datetime, timeout: timedelta | None
) -> datetime | None:
    """When the agent went away for good, or None while they are connected.

    No row at all means we never saw them: treated as gone since forever.
    """
    if row is None:
        return datetime.min.replace(tzinfo=now.tzinfo)
    if row.status == PresenceStatus.OFFLINE:
        return row.last_seen_at
    if timeout is not None and row.last_seen_at + timeout < now:
        return row.last_seen_at + timeout  # silent client: counts as disconnected then
    return None


def mark_all_offline(session: Session, now: datetime) -> int:
    """After a gateway restart no console is connected: everyone starts their grace."""
    result = session.execute(
        update(AgentPresence)
        .where(AgentPresence.status != PresenceStatus.OFFLINE)
        .values(status=PresenceStatus.OFFLINE, last_seen_at=now, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
