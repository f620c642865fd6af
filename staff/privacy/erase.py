"""Erase one customer's data everywhere, and purge conversations past the retention period.

What goes (per conversation): its messages (text, FAQ trail, feedback), the conversation
row, its tickets with their events and internal notes, the ownership row, its CSAT
surveys, its review status, tags and review comments, and Rasa's tracker events for that
sender id. Rasa's ``events`` table is deleted from in the app's
database when it is there (PostgreSQL deployments) and, for the default SQLite tracker
file, through the standard sqlite3 module at the path the caller passes.

What stays: one audit row saying an erasure happened (action, counts, who), which names
the conversation only by a SHA-256 digest, so an operator can confirm "was X erased?"
without the log keeping the id. Earlier audit rows about the erased tickets keep their
who/what/when (agents' accountability) but lose their free-form details; earlier rows
about the conversation itself (a supervisor read, tagged or commented on it) keep
who/what/when too, but name it by the same digest and lose their details.

The functions work inside the caller's transaction (``session``); the caller commits.
The SQLite tracker file is a separate database and is changed first: if the app's
transaction then fails, running the erasure again finishes the job (it is idempotent).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, Float, MetaData, String, Table, delete, func, inspect, select, text, update
from sqlalchemy.orm import Session

from staff.auth.audit import Actor, record
from staff.auth.models import AuditEntry
from bot.csat.models import CsatSurvey
from staff.review.models import ConversationReview, ConversationTag, ReviewComment
from bot.transcript.models import Conversation, Message
from handoff.models import ConversationOwner, Ticket, TicketEvent, TicketNote

logger = logging.getLogger(__name__)

ERASE_ACTION = "privacy.erase"
PURGE_ACTION = "privacy.purge"
TRACKER_TABLE = "events"  # Rasa's SQLTrackerStore table
TRACKER_KEY = "rasa_tracker.events"
AUDIT_SCRUBBED_KEY = "audit_log (details cleared)"
REPORTED_TABLES = (
    "messages", "conversations", "tickets", "ticket_events", "ticket_notes",
    "conversation_owners", "csat_surveys", "conversation_reviews", "conversation_tags",
    "review_comments", TRACKER_KEY, AUDIT_SCRUBBED_KEY,
)
# Tables hanging off conversations (ON DELETE CASCADE), deleted explicitly to be counted.
CONVERSATION_CHILDREN = (
    ("csat_surveys", CsatSurvey), ("conversation_reviews", ConversationReview),
    ("conversation_tags", ConversationTag), ("review_comments", ReviewComment),
)
# Audit rows naming a conversation (staff/review's reads and edits) are renamed to this.
DIGEST_TARGET = "conversation_sha256"
# Keeps IN (...) lists well under SQLite's and PostgreSQL's bound-parameter limits.
BATCH = 500


@dataclass
class ErasureReport:
    """Rows deleted per table (and audit rows scrubbed) by one erase or purge."""

    conversations: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, rows: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + max(rows, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_text(self) -> str:
        width = max((len(name) for name in self.counts), default=0)
        lines = [f"conversations erased: {self.conversations}"]
        lines += [f"  {name.ljust(width)}  {rows}" for name, rows in self.counts.items()]
        return "\n".join(lines)


def conversation_digest(conversation_id: str) -> str:
    """What the audit log keeps instead of the conversation id (64 hex characters)."""
    return hashlib.sha256(conversation_id.encode()).hexdigest()


def erase_customer(
    session: Session,
    conversation_id: str,
    *,
    tracker_sqlite_path: Path | None = None,
    actor: Actor | None = None,
) -> ErasureReport:
    """Delete everything stored about one conversation; returns counts per table.

    An unknown id is not an error (a repeated erasure finds nothing); callers that want
    to refuse one can check ``conversation_known`` first.
    """
    report = ErasureReport()
    _erase(session, [conversation_id], report, tracker_sqlite_path)
    report.conversations = 1 if report.total else 0
    record(
        session,
        ERASE_ACTION,
        actor=actor,
        target_type=DIGEST_TARGET,
        target_id=conversation_digest(conversation_id),
        details={"counts": dict(report.counts)},
    )
    logger.info("erased a conversation: %d rows", report.total)  # never the id or content
    return report


def conversation_known(session: Session, conversation_id: str) -> bool:
    """Whether any app table still holds rows for the conversation."""
    return any(
        session.scalar(select(func.count()).select_from(model).where(column == conversation_id))
        for model, column in (
            (Conversation, Conversation.id),
            (Message, Message.conversation_id),
            (Ticket, Ticket.conversation_id),
            (ConversationOwner, ConversationOwner.conversation_id),
        )
    )


def purge_older_than(
    session: Session,
    cutoff: datetime,
    *,
    tracker_sqlite_path: Path | None = None,
    actor: Actor | None = None,
) -> ErasureReport:
    """Erase every conversation whose last activity is before ``cutoff``.

    Last activity is the latest of the conversation's ``last_activity_at``, its newest
    message and its tickets' ``updated_at``: a conversation an agent is still working
    on is kept even if the customer went quiet long ago. Tickets whose conversation row
    is already gone are purged by their own ``updated_at``. Rasa trackers whose newest
    event is older than the cutoff go too, including ones the app never stored.
    """
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware (UTC)")
    report = ErasureReport()
    ids = _stale_conversations(session, cutoff)
    _erase(session, ids, report, tracker_sqlite_path)
    report.conversations = len(ids)
    _purge_stale_trackers(session, cutoff, report, tracker_sqlite_path)
    record(
        session,
        PURGE_ACTION,
        actor=actor,
        details={"cutoff": cutoff.isoformat(), "conversations": report.conversations,
                 "counts": dict(report.counts)},
    )
    logger.info("purged %d conversations older than %s", report.conversations, cutoff.isoformat())
    return report


def _stale_conversations(session: Session, cutoff: datetime) -> list[str]:
    recent_message = select(Message.id).where(
        Message.conversation_id == Conversation.id, Message.created_at >= cutoff
    )
    recent_ticket = select(Ticket.id).where(
        Ticket.conversation_id == Conversation.id, Ticket.updated_at >= cutoff
    )
    stale = set(
        session.scalars(
            select(Conversation.id).where(
                Conversation.last_activity_at < cutoff,
                ~recent_message.exists(),
                ~recent_ticket.exists(),
            )
        )
    )
    # Tickets (and ownership rows) outliving their conversation row: handoff keeps no
    # foreign key to conversations, so they are found on their own.
    orphan_tickets = select(Ticket.conversation_id).where(
        ~select(Conversation.id).where(Conversation.id == Ticket.conversation_id).exists()
    ).group_by(Ticket.conversation_id).having(func.max(Ticket.updated_at) < cutoff)
    stale.update(session.scalars(orphan_tickets))
    orphan_owners = select(ConversationOwner.conversation_id).where(
        ConversationOwner.updated_at < cutoff,
        ~select(Conversation.id).where(Conversation.id == ConversationOwner.conversation_id).exists(),
        ~select(Ticket.id).where(Ticket.conversation_id == ConversationOwner.conversation_id,
                                 Ticket.updated_at >= cutoff).exists(),
    )
    stale.update(session.scalars(orphan_owners))
    return sorted(stale)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _erase(
    session: Session, ids: Sequence[str], report: ErasureReport, tracker_sqlite_path: Path | None
) -> None:
    for name in REPORTED_TABLES:  # every table in the report, even at zero
        report.add(name, 0)
    # The tracker file first: see the module docstring for why.
    if tracker_sqlite_path is not None:
        report.add(TRACKER_KEY, _delete_tracker_file(tracker_sqlite_path, ids))
    tracker_here = _tracker_table(session)
    for chunk in _chunks(ids):
        ticket_ids = list(
            session.scalars(select(Ticket.id).where(Ticket.conversation_id.in_(chunk)))
        )
        # Children before parents, explicitly: cascades would do it on PostgreSQL and
        # SQLite-with-foreign-keys, but not report how many rows went.
        if ticket_ids:
            report.add("ticket_notes", _count(session.execute(
                delete(TicketNote).where(TicketNote.ticket_id.in_(ticket_ids)))))
            report.add("ticket_events", _count(session.execute(
                delete(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)))))
            report.add(AUDIT_SCRUBBED_KEY, _scrub_ticket_audit(session, ticket_ids))
        # Ownership rows carry a version column; a bulk delete skips the ORM check on
        # purpose (the conversation is going away whoever owns it).
        report.add("conversation_owners", _count(session.execute(
            delete(ConversationOwner).where(ConversationOwner.conversation_id.in_(chunk))
            .execution_options(synchronize_session=False))))
        report.add("tickets", _count(session.execute(
            delete(Ticket).where(Ticket.id.in_(ticket_ids)).execution_options(synchronize_session=False)
        )) if ticket_ids else 0)
        for name, model in CONVERSATION_CHILDREN:
            report.add(name, _count(session.execute(
                delete(model).where(model.conversation_id.in_(chunk)))))
        report.add(AUDIT_SCRUBBED_KEY, _scrub_conversation_audit(session, chunk))
        # reply_to_id points within the same conversation, so clearing it first lets the
        # delete run in any order on databases that check foreign keys per row.
        session.execute(
            update(Message).where(Message.conversation_id.in_(chunk)).values(reply_to_id=None)
        )
        report.add("messages", _count(session.execute(
            delete(Message).where(Message.conversation_id.in_(chunk)))))
        report.add("conversations", _count(session.execute(
            delete(Conversation).where(Conversation.id.in_(chunk)))))
        if tracker_here is not None:
            report.add(TRACKER_KEY, _count(session.execute(
                delete(tracker_here).where(tracker_here.c.sender_id.in_(chunk)))))
    session.flush()


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _scrub_ticket_audit(session: Session, ticket_ids: Iterable[int]) -> int:
    # Who claimed or resolved a ticket stays on record; details (a transfer target, a
    # caller's free-form extras) might quote the customer, so they go.
    targets = [str(ticket_id) for ticket_id in ticket_ids]
    return _count(session.execute(
        update(AuditEntry)
        .where(AuditEntry.target_type == "ticket", AuditEntry.target_id.in_(targets),
               AuditEntry.details.is_not(None))
        .values(details=None)
        .execution_options(synchronize_session=False)
    ))


def _scrub_conversation_audit(session: Session, conversation_ids: Sequence[str]) -> int:
    # The erasure row names the conversation by digest only; rows written while it
    # existed (review.read, review.tag_add...) follow suit and drop their details.
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.target_id)
        .where(AuditEntry.target_type == "conversation", AuditEntry.target_id.in_(conversation_ids))
    ).all()
    for entry_id, target_id in rows:
        session.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id)
            .values(target_type=DIGEST_TARGET, target_id=conversation_digest(target_id or ""), details=None)
            .execution_options(synchronize_session=False)
        )
    return len(rows)


def _tracker_table(session: Session) -> Table | None:
    """Rasa's ``events`` table if it lives in the app's database (it has ``sender_id``)."""
    bind = session.connection()
    inspector = inspect(bind)
    if not inspector.has_table(TRACKER_TABLE):
        return None
    columns = {column["name"] for column in inspector.get_columns(TRACKER_TABLE)}
    if not {"sender_id", "timestamp"} <= columns:
        return None  # someone else's "events" table: not ours to delete from
    return Table(TRACKER_TABLE, MetaData(), Column("sender_id", String), Column("timestamp", Float))


def _delete_tracker_file(path: Path, ids: Sequence[str]) -> int:
    if not path.exists():
        return 0  # Rasa never ran here: nothing to erase
    connection = sqlite3.connect(path, timeout=30)
    try:
        if not _file_has_tracker(connection):
            return 0
        deleted = 0
        with connection:  # one transaction; commits on success
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                deleted += connection.execute(
                    f"DELETE FROM {TRACKER_TABLE} WHERE sender_id IN ({marks})", list(chunk)
                ).rowcount
        return deleted
    finally:
        connection.close()


def _file_has_tracker(connection: sqlite3.Connection) -> bool:
    return connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TRACKER_TABLE,)
    ).fetchone() is not None


# Rasa stores event time as a float UNIX timestamp; a sender whose newest event is older
# than the cutoff is an abandoned tracker.
_STALE_SENDERS = (
    f"SELECT sender_id FROM {TRACKER_TABLE} GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"
)


def _purge_stale_trackers(
    session: Session, cutoff: datetime, report: ErasureReport, tracker_sqlite_path: Path | None
) -> None:
    seconds = cutoff.timestamp()
    if _tracker_table(session) is not None:
        report.add(TRACKER_KEY, _count(session.execute(
            text(f"DELETE FROM {TRACKER_TABLE} WHERE sender_id IN ({_STALE_SENDERS})"),
            {"cutoff": seconds},
        )))
    if tracker_sqlite_path is not None and tracker_sqlite_path.exists():
        connection = sqlite3.connect(tracker_sqlite_path, timeout=30)
        try:
            if _file_has_tracker(connection):
                with connection:
                    report.add(TRACKER_KEY, connection.execute(
                        f"DELETE FROM {TRACKER_TABLE} WHERE sender_id IN "
                        f"({_STALE_SENDERS.replace(':cutoff', '?')})",
                        (seconds,),
                    ).rowcount)
        finally:
            connection.close()
