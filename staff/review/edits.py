"""Review status, tags and comments: validation and the writes (in the caller's session)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from staff.review.models import REVIEW_STATUSES, ConversationReview, ConversationTag, ReviewComment
from bot.transcript.models import Conversation, utcnow

MAX_TAG_CHARS = 40
MAX_TAGS_PER_CONVERSATION = 20
MAX_COMMENT_CHARS = 2000
_TAG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


class EditError(ValueError):
    """Input the review cannot take (422 with this reason)."""


class UnknownConversation(LookupError):
    pass


def normalise_tag(raw: str) -> str:
    """Lower case, accents dropped, inner spaces as '-'; letters, digits, '-', '_' only.

    So "Late Delivery" and "late-delivery" are one tag, and a tag cannot carry markup or
    free text (it is shown and filtered on, never redacted).
    """
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    tag = re.sub(r"\s+", "-", folded.strip().lower())
    if not tag:
        raise EditError("tag: empty")
    if len(tag) > MAX_TAG_CHARS:
        raise EditError(f"tag: at most {MAX_TAG_CHARS} characters")
    if not _TAG.fullmatch(tag):
        raise EditError("tag: letters, digits, '-' and '_' only")
    return tag


def clean_comment(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise EditError("comment: empty")
    if len(text) > MAX_COMMENT_CHARS:
        raise EditError(f"comment: at most {MAX_COMMENT_CHARS} characters")
    return text


def _require(session: Session, conversation_id: str) -> None:
    if session.get(Conversation, conversation_id) is None:
        raise UnknownConversation(conversation_id)


def set_status(session: Session, conversation_id: str, status: str, reviewer_id: int) -> None:
    if status not in REVIEW_STATUSES:
        raise EditError(f"status must be one of {', '.join(REVIEW_STATUSES)}")
    _require(session, conversation_id)
    row = session.get(ConversationReview, conversation_id)
    if row is None:
        session.add(ConversationReview(conversation_id=conversation_id, status=status,
                                       reviewer_id=reviewer_id, updated_at=utcnow()))
    else:
        row.status, row.reviewer_id, row.updated_at = status, reviewer_id, utcnow()
    session.flush()


def add_tag(session: Session, conversation_id: str, raw: str, user_id: int) -> tuple[str, bool]:
    """(normalised tag, whether it was new); adding an existing tag is not an error."""
    tag = normalise_tag(raw)
    _require(session, conversation_id)
    if session.get(ConversationTag, (conversation_id, tag)) is not None:
        return tag, False
    count = session.scalar(select(func.count()).select_from(ConversationTag)
                           .where(ConversationTag.conversation_id == conversation_id)) or 0
    if count >= MAX_TAGS_PER_CONVERSATION:
        raise EditError(f"at most {MAX_TAGS_PER_CONVERSATION} tags per conversation")
    session.add(ConversationTag(conversation_id=conversation_id, tag=tag, created_by=user_id,
                                created_at=utcnow()))
    session.flush()
    return tag, True


def remove_tag(session: Session, conversation_id: str, raw: str) -> tuple[str, bool]:
    tag = normalise_tag(raw)
    _require(session, conversation_id)
    result = session.execute(delete(ConversationTag).where(
        ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag))
    return tag, bool(getattr(result, "rowcount", 0))


def add_comment(session: Session, conversation_id: str, raw: str, author_id: int) -> ReviewComment:
    text = clean_comment(raw)
    _require(session, conversation_id)
    comment = ReviewComment(conversation_id=conversation_id, author_id=author_id, text=text,
                            created_at=utcnow())
    session.add(comment)
    session.flush()
    return comment
