"""Reading conversations for review: the filtered list (keyset pages), the transcript.

Every text that leaves this module (messages, FAQ trails, ticket subjects, summaries,
details, notes, event notes, CSAT comments, review comments) has gone through
``staff.privacy.redaction``: supervisors never read raw personal data here.

The list runs in two steps so a page costs the same at any database size: one query
picks the page's conversation ids (newest first, keyset on ``created_at, id``, filters
as EXISTS conditions backed by indexes), then a handful of queries bring the columns of
just those ids.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, literal, or_, select, union_all
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from staff.auth.models import User
from bot.csat.models import CsatSurvey
from staff.privacy.redaction import redact, redact_json
from staff.review.filters import (
    FilterError,
    ReviewFilters,
    conditions,
    message_matches,
    search_hits,
    search_words,
)
from staff.review.models import ConversationReview, ConversationTag, ReviewComment
from bot.transcript.button_titles import display_texts
from bot.transcript.models import Conversation, Message
from handoff.lifecycle import CloseReason
from handoff.models import ConversationOwner, Ticket, TicketEvent, TicketNote, ticket_number

DEFAULT_PAGE = 50
MAX_PAGE = 200
FIRST_MESSAGE_CHARS = 160
# Ids per IN (...) when enriching many rows (exports): well under parameter limits.
BATCH = 200


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            created, _, cid = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
            moment = datetime.fromisoformat(created)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise FilterError("cursor: not a cursor this list gave out") from exc
        if moment.tzinfo is None or not cid or len(cid) > 32:
            raise FilterError("cursor: not a cursor this list gave out")
        return cls(moment.astimezone(UTC), cid)


def page_ids_query(
    session: Session, filters: ReviewFilters, drill: Select[Any] | None = None
) -> Select[tuple[str, datetime]]:
    """SELECT id, created_at of the filtered conversations, newest first."""
    dialect = session.get_bind().dialect.name
    hits = search_hits(session, filters.q) if filters.q else None
    query = select(Conversation.id, Conversation.created_at).where(*conditions(filters, dialect, hits))
    if drill is not None:
        query = query.where(Conversation.id.in_(drill))
    return query.order_by(Conversation.created_at.desc(), Conversation.id.desc())


def after(query: Select[Any], cursor: Cursor | None) -> Select[Any]:
    if cursor is None:
        return query
    return query.where(
        or_(Conversation.created_at < cursor.created_at,
            and_(Conversation.created_at == cursor.created_at, Conversation.id < cursor.id))
    )


def list_page(
    session: Session,
    filters: ReviewFilters,
    *,
    cursor: Cursor | None = None,
    limit: int = DEFAULT_PAGE,
    drill: Select[Any] | None = None,
) -> dict[str, Any]:
    query = page_ids_query(session, filters, drill)
    if filters.q is not None:
        rows, resume = searched_rows(session, query, filters.q, cursor, limit, max_chunks=SEARCH_MAX_CHUNKS)
        next_cursor = resume.encode() if resume else None
        return {"conversations": summaries(session, [cid for cid, _ in rows]), "next_cursor": next_cursor}
    rows = session.execute(after(query, cursor).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1][1], rows[-1][0]).encode() if more and rows else None
    return {"conversations": summaries(session, [cid for cid, _ in rows]), "next_cursor": next_cursor}


# Search only what the supervisor can see ------------------------------------------------
#
# The SQL search (index-backed) runs on the stored text, which holds the unmasked e-mail
# addresses and numbers; the transcript shows them masked. So every candidate the SQL
# finds is checked again on its redacted text, and only conversations whose *redacted*
# messages match are listed: a search for a card number's digits or an address's domain
# cannot confirm a guessed value (issue 15). Searches for whole PII values are refused
# earlier with a reason (filters.parse_filters).

# Candidates examined per list page: a search whose hits are nearly all inside masked
# values stops after this many chunks and hands back a cursor to continue from.
SEARCH_CHUNK = 200
SEARCH_MAX_CHUNKS = 10


def visible_matches(session: Session, q: str, ids: Sequence[str]) -> set[str]:
    """Of ``ids``, the conversations with a message whose redacted text matches ``q``,
    with the same matching rule as the SQL search (PostgreSQL full text; SQLite words as
    case-insensitive substrings)."""
    if not ids:
        return set()
    dialect = session.get_bind().dialect.name
    candidates = session.execute(
        select(Message.conversation_id, Message.text)
        .where(Message.conversation_id.in_(ids), message_matches(q, dialect))
    ).tuples().all()
    if dialect == "postgresql":
        cids = [cid for cid, _ in candidates]
        texts = [redact(text or "") for _, text in candidates]
        if not cids:
            return set()
        return set(session.scalars(text_sql(
            "SELECT DISTINCT u.c FROM unnest(CAST(:cids AS text[]), CAST(:texts AS text[])) AS u(c, t) "
            "WHERE to_tsvector('simple'::regconfig, u.t) @@ plainto_tsquery('simple'::regconfig, :q)"
        ), {"cids": cids, "texts": texts, "q": q}))
    words = [w.lower() for w in search_words(q)]
    found: set[str] = set()
    for cid, raw in candidates:
        if cid not in found:
            shown = redact(raw or "").lower()
            if all(w in shown for w in words):
                found.add(cid)
    return found


def searched_rows(
    session: Session, query: Select[Any], q: str, cursor: Cursor | None, limit: int,
    *, max_chunks: int | None,
) -> tuple[list[tuple[str, datetime]], Cursor | None]:
    """Up to ``limit`` rows of ``query`` (newest first) that match ``q`` as shown, and the
    cursor to continue from (None when the list is done)."""
    kept: list[tuple[str, datetime]] = []
    position, chunks = cursor, 0
    while True:
        rows = [(cid, at) for cid, at in session.execute(after(query, position).limit(SEARCH_CHUNK)).tuples()]
        chunks += 1
        visible = visible_matches(session, q, [cid for cid, _ in rows])
        for row in rows:
            if row[0] in visible:
                if len(kept) == limit:
                    last = kept[-1]
                    return kept, Cursor(last[1], last[0])
                kept.append(row)
        if len(rows) < SEARCH_CHUNK:
            return kept, None
        position = Cursor(rows[-1][1], rows[-1][0])
        if max_chunks is not None and chunks >= max_chunks:
            return kept, position


# Row summaries ---------------------------------------------------------------------------


def _names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).tuples().all())


def outcome_of(close_reasons: Sequence[str | None]) -> str:
    """The docs/review.md definition, per conversation, from its tickets' close reasons."""
    if not close_reasons:
        return "resolved_by_bot"
    if all(reason == CloseReason.ABANDONED.value for reason in close_reasons):
        return "abandoned"
    return "escalated"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summaries(session: Session, ids: Sequence[str]) -> list[dict[str, Any]]:
    """One list row per id, in the order given.

    Four queries whatever the page size (round trips, not rows, dominate at 50 rows):
    the conversations with per-row scalar subqueries (message count, first customer
    message, review status, last rating), their tickets with assignee names, and their
    intents and tags together.
    """
    if not ids:
        return []
    c = Conversation
    count = select(func.count()).where(Message.conversation_id == c.id).scalar_subquery()
    first_text = (select(Message.text).where(Message.conversation_id == c.id, Message.direction == "in",
                                             Message.author == "customer")
                  .order_by(Message.id).limit(1).scalar_subquery())
    status = select(ConversationReview.status).where(ConversationReview.conversation_id == c.id).scalar_subquery()

    def last_rated(column: Any) -> Any:  # the last rating counts (docs/kpis.md)
        return (select(column).where(CsatSurvey.conversation_id == c.id, CsatSurvey.rating.is_not(None))
                .order_by(CsatSurvey.id.desc()).limit(1).scalar_subquery())

    rating, recommend = last_rated(CsatSurvey.rating), last_rated(CsatSurvey.would_recommend)
    found = {row.id: row for row in session.execute(
        select(c.id, c.channel, c.created_at, c.last_activity_at, count.label("messages"),
               first_text.label("first_text"), status.label("status"), rating.label("rating"),
               recommend.label("recommend")).where(c.id.in_(ids)))}
    tickets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t, name in session.execute(
        select(Ticket, User.display_name).outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.conversation_id.in_(ids)).order_by(Ticket.id)
    ).tuples():
        tickets[t.conversation_id].append({
            "id": t.id, "number": ticket_number(t.id), "reason": t.reason, "category": t.category,
            "status": t.status, "close_reason": t.close_reason, "assignee_id": t.assignee_id,
            "assignee_name": name if t.assignee_id else None,
        })
    intents: dict[str, list[str]] = defaultdict(list)
    tags: dict[str, list[str]] = defaultdict(list)
    labels = union_all(
        select(Message.conversation_id.label("cid"), literal("i").label("kind"), Message.intent.label("value"))
        .where(Message.conversation_id.in_(ids), Message.intent.is_not(None)).distinct(),
        select(ConversationTag.conversation_id, literal("t"), ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(ids)),
    ).subquery()
    for cid, kind, value in session.execute(select(labels).order_by(labels.c.value)).tuples():
        (intents if kind == "i" else tags)[cid].append(value)
    rows = []
    for cid in ids:
        row = found.get(cid)
        if row is None:
            continue  # erased between the two queries
        rows.append({
            "id": cid,
            "channel": row.channel,
            "started_at": row.created_at.isoformat(),
            "last_activity_at": row.last_activity_at.isoformat(),
            "message_count": int(row.messages or 0),
            "outcome": outcome_of([t["close_reason"] for t in tickets[cid]]),
            "first_customer_message": _clip(redact(row.first_text or ""), FIRST_MESSAGE_CHARS),
            "intents": intents[cid],
            "tickets": tickets[cid],
            "csat": None if row.rating is None else {"rating": row.rating, "would_recommend": row.recommend},
            "tags": tags[cid],
            "review_status": row.status or "unreviewed",
        })
    return rows


# Transcript ------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def message_json(m: Message, shown: str | None = None) -> dict[str, Any]:
    """A message as supervisors read it; ``shown`` is the title of the button a customer
    pressed (``text`` keeps the payload for exports and auditing)."""
    trail = redact_json(m.faq_trail) if m.faq_trail else None
    body = {
        "id": m.id,
        "at": m.created_at.isoformat(),
        "direction": m.direction,
        "author": m.author,
        "text": redact(m.text or ""),
        "status": m.status,
        "intent": m.intent,
        "intent_confidence": m.intent_confidence,
        "faq_trail": trail,
        "feedback": m.feedback,
        "feedback_at": _iso(m.feedback_at),
        "latency_ms": m.latency_ms,
        "reply_to_id": m.reply_to_id,
        "error": m.error,
        "buttons": redact_json(m.buttons) if m.buttons else None,
    }
    if shown is not None:
        body["display_text"] = redact(shown)
    return body


def _actor(kind: str, actor_id: str | None, names: dict[int, str]) -> str:
    if kind == "agent" and actor_id and actor_id.isdigit():
        return names.get(int(actor_id), f"agent #{actor_id}")
    return kind


# Ticket event kinds that move the conversation between bot, queue and an agent.
OWNERSHIP_EVENTS = {
    "classified": "to the queue", "claimed": "to an agent", "transferred": "to another agent",
    "released": "back to the queue", "handed_back": "back to the bot", "resolved": "back to the bot",
    "abandoned": "back to the bot (customer left the queue)", "reopened": "to the queue",
}


def transcript(session: Session, conversation_id: str) -> dict[str, Any] | None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    messages = list(session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)))
    tickets = list(session.scalars(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id)))
    ticket_ids = [t.id for t in tickets]
    events = list(session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id))) if ticket_ids else []
    notes = list(session.scalars(
        select(TicketNote).where(TicketNote.ticket_id.in_(ticket_ids)).order_by(TicketNote.id))) if ticket_ids else []
    surveys = list(session.scalars(
        select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id).order_by(CsatSurvey.id)))
    comments = list(session.scalars(
        select(ReviewComment).where(ReviewComment.conversation_id == conversation_id).order_by(ReviewComment.id)))
    tags = list(session.scalars(
        select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)))
    review = session.get(ConversationReview, conversation_id)
    owner = session.get(ConversationOwner, conversation_id)
    agent_ids: set[int | None] = {t.assignee_id for t in tickets} | {t.previous_assignee_id for t in tickets}
    agent_ids |= {n.agent_id for n in notes} | {c.author_id for c in comments}
    agent_ids |= {review.reviewer_id if review else None, owner.agent_id if owner else None}
    agent_ids |= {int(e.actor_id) for e in events if e.actor_kind == "agent" and e.actor_id and e.actor_id.isdigit()}
    names = _names(session, agent_ids)
    number = {t.id: ticket_number(t.id) for t in tickets}
    return {
        "conversation": {
            "id": conversation.id, "channel": conversation.channel,
            "started_at": conversation.created_at.isoformat(),
            "last_activity_at": conversation.last_activity_at.isoformat(),
            "outcome": outcome_of([t.close_reason for t in tickets]),
            "owner": {"owner": owner.owner if owner else "bot",
                      "agent_name": names.get(owner.agent_id) if owner and owner.agent_id else None},
        },
        "messages": [message_json(m, shown) for m, shown in zip(messages, display_texts(messages))],
        "tickets": [{
            "id": t.id, "number": number[t.id], "reason": t.reason, "category": t.category,
            "priority": t.priority, "status": t.status, "close_reason": t.close_reason,
            "subject": redact(t.subject or ""), "summary": redact(t.summary or ""),
            "details": redact_json(t.details or {}),
            "resolution_note": redact(t.resolution_note) if t.resolution_note else None,
            "assignee_name": names.get(t.assignee_id) if t.assignee_id else None,
            "previous_assignee_name": names.get(t.previous_assignee_id) if t.previous_assignee_id else None,
            "created_at": t.created_at.isoformat(), "queued_at": _iso(t.queued_at),
            "claimed_at": _iso(t.claimed_at), "first_response_at": _iso(t.first_response_at),
            "resolved_at": _iso(t.resolved_at), "closed_at": _iso(t.closed_at),
            "reopen_count": t.reopen_count, "repeat_contact": t.repeat_contact,
        } for t in tickets],
        "ticket_events": [{
            "ticket": number[e.ticket_id], "at": e.at.isoformat(), "kind": e.kind,
            "actor": _actor(e.actor_kind, e.actor_id, names), "actor_kind": e.actor_kind,
            "from": e.from_status, "to": e.to_status,
            "note": redact(e.note) if e.note else None,
            "ownership": OWNERSHIP_EVENTS.get(e.kind),
        } for e in events],
        "notes": [{"ticket": number[n.ticket_id], "at": n.at.isoformat(),
                   "author": names.get(n.agent_id, f"agent #{n.agent_id}"), "text": redact(n.text)}
                  for n in notes],
        "csat": [{"at": s.asked_at.isoformat(), "trigger": s.trigger, "state": s.state, "rating": s.rating,
                  "would_recommend": s.would_recommend,
                  "comment": redact(s.comment) if s.comment else None,
                  "ticket": number.get(s.ticket_id) if s.ticket_id else None} for s in surveys],
        "tags": tags,
        "review": {
            "status": review.status if review else "unreviewed",
            "reviewer": names.get(review.reviewer_id) if review and review.reviewer_id else None,
            "updated_at": _iso(review.updated_at) if review else None,
        },
        "comments": [{"id": c.id, "at": c.created_at.isoformat(),
                      "author": names.get(c.author_id, "(deleted user)") if c.author_id else "(unknown)",
                      "text": redact(c.text)} for c in comments],
    }


# Export ----------------------------------------------------------------------------------


def export_ids(
    session: Session, filters: ReviewFilters, cap: int, drill: Select[Any] | None = None
) -> list[str]:
    """Up to ``cap + 1`` ids of the filtered list, newest first (one more tells "truncated")."""
    query = page_ids_query(session, filters, drill)
    if filters.q is not None:
        rows, _ = searched_rows(session, query, filters.q, None, cap + 1, max_chunks=None)
        return [cid for cid, _ in rows]
    return [cid for cid, _ in session.execute(query.limit(cap + 1))]


def export_batch(session: Session, ids: Sequence[str]) -> list[dict[str, Any]]:
    """List rows plus every message (redacted) for a batch of conversation ids."""
    rows = summaries(session, ids)
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in session.scalars(
        select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.conversation_id, Message.id)
    ):
        messages[message.conversation_id].append(message_json(message))
    for row in rows:
        row["messages"] = messages[row["id"]]
    return rows

