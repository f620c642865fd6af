"""Tables owned by the transcript log."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text  # "text" is also a column name below
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BOT_ANSWERS = "direction = 'out' AND author = 'bot'"
CUSTOMER_WROTE = "direction = 'in' AND author = 'customer'"

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
MessageId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database.

    SQLite has no time zones and hands back naive datetimes; comparing those with aware
    ones raises. Values are normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use bot.transcript.models.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class TranscriptBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Conversation(TranscriptBase):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The channel's own id for the customer (a Telegram chat id); web ids are ours.
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    # When the customer first wrote (None: the widget opened, nobody wrote). Kept by a
    # database trigger on messages (migration 0007), so every writer keeps it right; the
    # KPIs' "the customer wrote before <end>" reads it instead of probing messages.
    first_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # Supervisors' lists (newest first, keyset on created_at, id) and every KPI
        # select conversations by start date.
        Index("ix_conversations_created_at", "created_at", "id"),
    )


class Message(TranscriptBase):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    author: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system
    text: Mapped[str] = mapped_column(Text, default="")
    # Set by the client so a re-sent message is stored and answered once.
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    # received -> answered | failed for inbound; sent for outbound.
    status: Mapped[str] = mapped_column(String(16))
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(64))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    faq_trail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    reply_to_id: Mapped[int | None] = mapped_column(
        MessageId, ForeignKey("messages.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(String(200))
    # "Did this help?" on a bot answer: "up" or "down", with when it was given.
    feedback: Mapped[str | None] = mapped_column(String(8))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "client_message_id"),
        Index("ix_messages_conversation_order", "conversation_id", "id"),
        Index("ix_messages_reply_to", "reply_to_id"),
        # The review list's intent filter: conversations in which an intent was seen.
        Index("ix_messages_intent_conversation", "intent", "conversation_id"),
        # "The customer wrote" (the KPI and review scope rule) and the first customer
        # message of a conversation, without reading the other messages.
        Index("ix_messages_customer_conversation", "conversation_id", "id",
              postgresql_where=sql_text(CUSTOMER_WROTE), sqlite_where=sql_text(CUSTOMER_WROTE)),
        # The dashboard's FAQ answer / fallback / helpfulness counts: the period's bot
        # messages only (migration 0006).
        Index("ix_messages_bot_created_at", "created_at",
              postgresql_where=sql_text(BOT_ANSWERS), sqlite_where=sql_text(BOT_ANSWERS)),
        # The review list's FAQ filter (staff.review.filters.faq_id_of spells it the same).
        Index("ix_messages_faq_conversation", sql_text("(faq_trail ->> 'faq_id')"), "conversation_id")
        .ddl_if(dialect="postgresql"),
        Index("ix_messages_faq_conversation", sql_text("json_extract(faq_trail, '$.faq_id')"), "conversation_id")
        .ddl_if(dialect="sqlite"),
        # The review list's full-text search (PostgreSQL; SQLite searches with LIKE).
        Index("ix_messages_text_fts", sql_text("to_tsvector('simple'::regconfig, text)"), postgresql_using="gin")
        .ddl_if(dialect="postgresql"),
    )
