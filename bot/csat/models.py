"""One row per survey asked: when, why, and what the customer answered (if anything).

Keeping unanswered surveys lets the response rate be "rated / asked", and the row is
the state of the little dialogue (rating, then would-recommend, then an optional
comment) across gateway restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.transcript.models import NAMING, Conversation, UTCDateTime, utcnow

# asked -> rated -> (recommend answered) -> done; "expired" when the customer moved on.
SURVEY_STATES = ("asked", "rated", "recommended", "done", "expired")
# Why the survey was asked: an agent resolved the ticket, or the bot closed the chat.
SURVEY_TRIGGERS = ("ticket_resolved", "bot_resolved")


class CsatBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CsatSurvey(CsatBase):
    __tablename__ = "csat_surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(Conversation.id, ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1..5
    would_recommend: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_csat_surveys_conversation", "conversation_id", "id"),)
