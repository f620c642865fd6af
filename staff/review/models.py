"""Tables owned by conversation review: a review status, tags and comments per conversation.

They hang off ``conversations`` with ON DELETE CASCADE, so erasing or purging a
conversation takes its review data with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.transcript.models import NAMING, Conversation, UTCDateTime, utcnow

REVIEW_STATUSES = ("unreviewed", "in_review", "reviewed", "needs_follow_up")


class ReviewBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ConversationReview(ReviewBase):
    """A conversation without a row here is ``unreviewed``."""

    __tablename__ = "conversation_reviews"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(Conversation.id, ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(24), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationTag(ReviewBase):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(Conversation.id, ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(48), primary_key=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The list filters by tag; the primary key already serves "tags of a conversation".
    __table_args__ = (Index("ix_conversation_tags_tag", "tag", "conversation_id"),)


class ReviewComment(ReviewBase):
    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(Conversation.id, ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
