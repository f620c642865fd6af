"""Tables owned by the handoff package (own MetaData, one Alembic history in bot/).

Conversation ids (32 hex characters) belong to bot/transcript and agent ids (integers)
to staff/auth; both are plain indexed columns here, without foreign keys, so this package
stays a leaf and its tables can live on their own.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Same convention as bot/transcript/models.py, so constraint names are predictable.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Customer-facing ticket numbers start here so they read like "HL-1001", not "HL-1".
TICKET_NUMBER_PREFIX = "HL-"
TICKET_NUMBER_OFFSET = 1000


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database.

    A copy of bot.transcript.models.UTCDateTime (handoff may not import bot). SQLite has
    no time zones and hands back naive datetimes; comparing those with aware ones raises.
    Values are normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; handoff stores aware UTC datetimes only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class HandoffBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ConversationOwner(HandoffBase):
    """Who owns a conversation right now; no row means the bot."""

    __tablename__ = "conversation_owners"

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(8))  # bot | queued | agent
    agent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Optimistic concurrency: every UPDATE checks and bumps it (SQLAlchemy version_id_col).
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Ticket(HandoffBase):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # Optional identity across conversations (an e-mail, a Telegram chat id) for
    # repeat-contact detection; the conversation id is always used as well.
    customer_key: Mapped[str | None] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(SmallInteger)  # 1 = most urgent
    status: Mapped[str] = mapped_column(String(24))
    assignee_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Who had it before it was released, transferred or reopened (shown in the console).
    previous_assignee_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # What the complaint is about, order number, contact... as collected by the bot.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sentiment: Mapped[float | None] = mapped_column(Float)
    repeat_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it (last) entered the queue: orders the wait and feeds the wait estimate.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(16))  # resolved | abandoned
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The queue query: open, unassigned, by priority then due time.
        Index("ix_tickets_queue", "status", "priority", "first_response_due"),
        # A conversation's tickets, newest first (reopen, repeat contact, ticket status).
        Index("ix_tickets_conversation_created", "conversation_id", "created_at"),
        # Tickets created in a period: every ticket KPI of the dashboard (migration 0006).
        Index("ix_tickets_created_at", "created_at"),
    )

    @property
    def number(self) -> str:
        return ticket_number(self.id)


class TicketEvent(HandoffBase):
    """One timestamped, attributed step in a ticket's life (who, when, why)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(8))  # customer | bot | agent | system
    # Agent id as text, the conversation id for the customer, empty for bot/system.
    actor_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_ticket_events_ticket_order", "ticket_id", "id"),
        Index("ix_ticket_events_kind_at", "kind", "at"),
    )


class TicketNote(HandoffBase):
    """Internal notes between agents; never shown to customers."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class AgentPresence(HandoffBase):
    __tablename__ = "agent_presence"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(8))  # online | away | offline
    # Last sign of life; for an offline agent, when the disconnect grace started.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def ticket_number(ticket_id: int) -> str:
    return f"{TICKET_NUMBER_PREFIX}{ticket_id + TICKET_NUMBER_OFFSET}"


def parse_ticket_number(text: str) -> int | None:
    """The ticket id in "HL-1001", "hl 1001", "#1001" or "1001"; None if not a number."""
    cleaned = text.strip().upper().lstrip("#")
    prefix = TICKET_NUMBER_PREFIX.rstrip("-")
    if cleaned.startswith(prefix):
        cleaned = cleaned[len(prefix):].lstrip(" -")
    if not cleaned.isdigit():
        return None
    ticket_id = int(cleaned) - TICKET_NUMBER_OFFSET
    return ticket_id if ticket_id > 0 else None
