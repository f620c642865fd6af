"""Erasure leaves nothing behind (searched in every table), purge goes by last activity."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from staff.auth.audit import Actor
from staff.auth.models import AuditEntry
from staff.privacy.erase import (
    ERASE_ACTION,
    PURGE_ACTION,
    TRACKER_KEY,
    conversation_digest,
    erase_customer,
    purge_older_than,
)
from bot.transcript.models import Conversation, Message
from handoff.models import Ticket
from tests.staff.privacy.conftest import Db, find_everywhere, seed_customer

OPERATOR = Actor(user_id=None, label="cli:dpo")


async def test_erase_leaves_nothing_behind(db: Db) -> None:
    gone = await seed_customer(db, time.time())
    kept = await seed_customer(db, time.time())
    everything = [gone.conversation_id, *gone.texts]
    # The search itself works: before erasure it finds every seeded string.
    before = find_everywhere(db, everything)
    assert {h.rsplit(": ", 1)[1] for h in before} == set(everything)

    with db.sessions.begin() as session:
        report = erase_customer(session, gone.conversation_id,
                                tracker_sqlite_path=db.tracker_file, actor=OPERATOR)

    assert find_everywhere(db, everything) == []
    assert report.conversations == 1
    assert report.counts["conversations"] == 1
    assert report.counts["messages"] == 2
    assert report.counts["tickets"] == 1
    assert report.counts["ticket_notes"] == 1
    assert report.counts["ticket_events"] >= 3  # opened, claimed, note, resolved...
    assert report.counts["conversation_owners"] == 1
    assert report.counts[TRACKER_KEY] == 2  # the database's events table and the file
    assert report.counts["csat_surveys"] == 1 and report.counts["conversation_reviews"] == 1
    assert report.counts["conversation_tags"] == 1 and report.counts["review_comments"] == 1
    # The other customer is untouched.
    assert len(find_everywhere(db, [kept.conversation_id, *kept.texts])) >= len(kept.texts) + 1


async def test_erasure_is_audited_without_content(db: Db) -> None:
    seeded = await seed_customer(db, time.time())
    with db.sessions.begin() as session:
        report = erase_customer(session, seeded.conversation_id,
                                tracker_sqlite_path=db.tracker_file, actor=OPERATOR)
    with db.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == ERASE_ACTION)).one()
        claim = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.claim")).one()
    assert entry.actor_label == "cli:dpo"
    assert entry.target_id == conversation_digest(seeded.conversation_id)
    assert entry.details == {"counts": report.counts}
    # The agent's claim stays on record, its details (which quoted the customer) do not.
    assert claim.target_id == str(seeded.ticket_id) and claim.details is None
    # A supervisor's reads and tags stay on record too, naming the conversation by digest.
    with db.sessions() as session:
        review_rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("review.%"))).all()
    assert sorted(r.action for r in review_rows) == ["review.read", "review.tag_add"]
    assert all(r.target_type == "conversation_sha256" and r.details is None
               and r.target_id == conversation_digest(seeded.conversation_id) for r in review_rows)


async def test_erase_twice_finds_nothing_the_second_time(db: Db) -> None:
    seeded = await seed_customer(db, time.time())
    with db.sessions.begin() as session:
        erase_customer(session, seeded.conversation_id, tracker_sqlite_path=db.tracker_file)
    with db.sessions.begin() as session:
        again = erase_customer(session, seeded.conversation_id, tracker_sqlite_path=db.tracker_file)
    assert again.conversations == 0 and again.total == 0


def _age(db: Db, conversation_id: str, when: datetime) -> None:
    """Move a conversation, its messages and tickets back in time."""
    with db.sessions.begin() as session:
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(created_at=when, last_activity_at=when))
        session.execute(update(Message).where(Message.conversation_id == conversation_id)
                        .values(created_at=when))
        session.execute(update(Ticket).where(Ticket.conversation_id == conversation_id)
                        .values(updated_at=when, version=Ticket.version + 1))


async def test_purge_by_last_activity(db: Db) -> None:
    now = datetime.now(timezone.utc)
    old_time = now - timedelta(days=400)
    old = await seed_customer(db, old_time.timestamp())
    recent = await seed_customer(db, now.timestamp())
    # Quiet customer, but an agent touched the ticket yesterday: still in use.
    busy = await seed_customer(db, old_time.timestamp())
    _age(db, old.conversation_id, old_time)
    _age(db, busy.conversation_id, old_time)
    with db.sessions.begin() as session:
        session.execute(update(Ticket).where(Ticket.id == busy.ticket_id)
                        .values(updated_at=now - timedelta(days=1), version=Ticket.version + 1))
    # A tracker the app never stored (e.g. a Rasa shell session), long abandoned.
    db.tracker_event("f" * 32, "orphan-tracker-text", old_time.timestamp())

    with db.sessions.begin() as session:
        report = purge_older_than(session, now - timedelta(days=365),
                                  tracker_sqlite_path=db.tracker_file, actor=OPERATOR)

    assert report.conversations == 1
    assert find_everywhere(db, [old.conversation_id, *old.texts, "orphan-tracker-text"]) == []
    for still in (recent, busy):
        assert len(find_everywhere(db, still.texts)) >= len(still.texts)
    # Old tracker rows of the busy conversation may go (Rasa only keeps dialogue state);
    # the purge counted the orphan's two rows and the old conversation's two.
    assert report.counts[TRACKER_KEY] >= 4
    with db.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == PURGE_ACTION)).one()
    assert entry.details is not None and entry.details["conversations"] == 1


async def test_purge_needs_an_aware_cutoff(db: Db) -> None:
    with db.sessions.begin() as session, pytest.raises(ValueError):
        purge_older_than(session, datetime(2020, 1, 1))


async def test_purge_takes_tickets_whose_conversation_row_is_gone(db: Db) -> None:
    # handoff has no foreign key to conversations: a ticket can outlive its conversation.
    now = datetime.now(timezone.utc)
    old_time = now - timedelta(days=400)
    seeded = await seed_customer(db, old_time.timestamp())
    _age(db, seeded.conversation_id, old_time)
    with db.sessions.begin() as session:
        session.execute(update(Message).where(Message.conversation_id == seeded.conversation_id)
                        .values(reply_to_id=None))
        session.query(Message).filter(Message.conversation_id == seeded.conversation_id).delete()
        session.query(Conversation).filter(Conversation.id == seeded.conversation_id).delete()
    with db.sessions.begin() as session:
        report = purge_older_than(session, now - timedelta(days=365),
                                  tracker_sqlite_path=db.tracker_file)
    assert report.counts["tickets"] == 1 and report.counts["conversation_owners"] == 1
    assert find_everywhere(db, [seeded.conversation_id, *seeded.texts]) == []
