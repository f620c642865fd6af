"""Seeding for erase/purge tests: every table filled through the real stores and services."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.audit import Actor, record
from staff.auth.models import AuthBase, User
from bot.csat.models import CsatBase, CsatSurvey
from bot.db import make_engine, make_session_factory
from staff.review.models import ConversationReview, ConversationTag, ReviewBase, ReviewComment
from bot.transcript.models import TranscriptBase, utcnow
from bot.transcript.store import OutboundDraft, TranscriptStore
from handoff import Handoff, HandoffBase

AGENT_ID = 7
# Rasa's SQLTrackerStore table, reduced to the columns erase relies on plus the payload.
TRACKER_DDL = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
    "type_name VARCHAR(255), timestamp FLOAT, data TEXT)"
)
TRACKER_DDL_PG = TRACKER_DDL.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY")


@dataclass
class Seeded:
    conversation_id: str
    ticket_id: int
    texts: list[str]  # unique strings that must all disappear on erasure


@dataclass
class Db:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    store: TranscriptStore
    handoff: Handoff
    tracker_file: Path

    def tracker_event(self, sender_id: str, payload: str, timestamp: float) -> None:
        """One row in the app database's tracker table and one in the SQLite tracker file."""
        data = json.dumps({"event": "user", "text": payload})
        with self.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                {"s": sender_id, "t": timestamp, "d": data},
            )
        with sqlite3.connect(self.tracker_file) as connection:
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                (sender_id, timestamp, data),
            )


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Db]:
    engine = make_engine(database_url)
    ddl = TRACKER_DDL_PG if engine.dialect.name == "postgresql" else TRACKER_DDL
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS events"))
        connection.execute(text(ddl))
    tracker_file = tmp_path / "rasa_tracker.db"
    with sqlite3.connect(tracker_file) as connection:
        connection.execute(TRACKER_DDL)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(User(email="agent@helpline.test", display_name="Agent", role="agent",
                         password_hash="x"))
    try:
        yield Db(database_url, engine, sessions, TranscriptStore(sessions), Handoff(), tracker_file)
    finally:
        # The PostgreSQL test database is shared by the session; leave no foreign table.
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS events"))
        engine.dispose()


async def seed_customer(db: Db, now_ts: float) -> Seeded:
    """A customer who chatted, rated an answer, complained, got an agent and a note."""
    marker = uuid.uuid4().hex[:12]
    said = f"my parcel {marker}-parcel never came, reach me at {marker}@example.com"
    conversation_id = await db.store.open_conversation("web")
    inbound = await db.store.record_inbound(conversation_id, "web", said, f"client-{marker}")
    await db.store.record_outbound(
        conversation_id, "web",
        [OutboundDraft(text=f"answer {marker}-answer",
                       faq_trail={"faq_id": "delivery", "score": 0.8, "echo": f"{marker}-trail"})],
        reply_to_id=inbound.message.id,
    )
    await db.store.record_feedback(conversation_id, "delivery", helpful=False)
    with db.sessions.begin() as session:
        ticket = db.handoff.escalate(
            session, conversation_id, "web", "complaint",
            subject=f"{marker}-subject", summary=f"{marker}-summary",
            details={"order": f"{marker}-order", "contact": f"{marker}@example.com"},
            customer_key=f"{marker}@example.com",
        )
        ticket_id = ticket.id
    with db.sessions.begin() as session:
        db.handoff.claim(session, ticket_id, AGENT_ID)
        db.handoff.add_note(session, ticket_id, AGENT_ID, f"{marker}-note internal")
        actor = Actor(user_id=None, label="agent@helpline.test")
        record(session, "ticket.claim", actor=actor, target_type="ticket", target_id=ticket_id,
               details={"quote": f"{marker}-audit"})
    with db.sessions.begin() as session:
        db.handoff.resolve(session, ticket_id, AGENT_ID, f"{marker}-resolution refunded")
    with db.sessions.begin() as session:
        # What the CSAT survey and a supervisor's review leave behind (bot/csat, staff/review).
        session.add(CsatSurvey(conversation_id=conversation_id, channel="web", ticket_id=ticket_id,
                               trigger="ticket_resolved", state="done", rating=2, would_recommend=False,
                               comment=f"{marker}-csat slow", asked_at=utcnow(), rated_at=utcnow(),
                               updated_at=utcnow()))
        session.add(ConversationReview(conversation_id=conversation_id, status="needs_follow_up",
                                       reviewer_id=None, updated_at=utcnow()))
        session.add(ConversationTag(conversation_id=conversation_id, tag=f"{marker}-tag", created_at=utcnow()))
        session.add(ReviewComment(conversation_id=conversation_id, text=f"{marker}-comment call back",
                                  created_at=utcnow()))
        supervisor = Actor(user_id=None, label="supervisor@helpline.test")
        record(session, "review.read", actor=supervisor, target_type="conversation", target_id=conversation_id)
        record(session, "review.tag_add", actor=supervisor, target_type="conversation",
               target_id=conversation_id, details={"tag": f"{marker}-tag"})
    db.tracker_event(conversation_id, f"{marker}-tracker", now_ts)
    texts = [f"{marker}-{part}" for part in
             ("parcel", "answer", "trail", "subject", "summary", "order", "note", "audit",
              "resolution", "tracker", "csat", "tag", "comment")] + [f"{marker}@example.com"]
    return Seeded(conversation_id, ticket_id, texts)


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def find_everywhere(db: Db, needles: list[str]) -> list[str]:
    """``table.column`` for every cell, in every table of every metadata plus Rasa's
    tracker (in the database and in the file), that contains one of ``needles``."""
    hits: list[str] = []
    with db.engine.connect() as connection:
        bases = (TranscriptBase, AuthBase, HandoffBase, ReviewBase, CsatBase)
        tables = [t for base in bases for t in base.metadata.sorted_tables]
        for table in tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    cell = _cell(value)
                    hits += [f"{table.name}.{column}: {n}" for n in needles if n in cell]
        for row in connection.execute(text("SELECT sender_id, data FROM events")).mappings():
            cell = f"{row['sender_id']} {row['data']}"
            hits += [f"events: {n}" for n in needles if n in cell]
    with sqlite3.connect(db.tracker_file) as file:
        for sender_id, data in file.execute("SELECT sender_id, data FROM events"):
            hits += [f"tracker file: {n}" for n in needles if n in f"{sender_id} {data}"]
    return hits
