#!/usr/bin/env python
"""Seed a database with realistic support traffic for the supervisor pages and benchmarks.

    scripts/seed_support_data.py --url URL --conversations 100000 --messages 1000000 \
        [--days 90] [--seed 1] [--password PW]

Migrates the database first, then bulk-loads (COPY on PostgreSQL, executemany on
SQLite) conversations spread over the last ``--days`` days (busier on weekdays and in
office hours), exactly ``--messages`` messages (customer questions with intents and
confidences, bot answers with FAQ trails answer / suggest / selected / fallback /
unknown_selection, feedback, latencies, agent replies after a handoff), tickets with
reasons, categories, agents and SLA timestamps (some abandoned in the queue, some
reopened, some still open), their ticket events, CSAT surveys, review statuses and
tags, and a few users: agents ``agent1@example.com``.., ``supervisor@example.com`` and
``admin@example.com`` with the password given. About one customer text in twenty
carries PII (emails, phone numbers, card numbers, IBANs) so redaction has work to do.
The billing category gets a complaint spike on the last day, so the dashboard's alert
has something to flag. The same ``--seed`` gives the same data (up to "now").

Refuses to seed a database that already has conversations (use a fresh one).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select  # noqa: E402

from staff.auth.audit import Actor  # noqa: E402
from staff.auth.passwords import Passwords  # noqa: E402
from staff.auth.users import UserDirectory  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.transcript.models import Conversation  # noqa: E402

DEFAULT_PASSWORD = "helpline-demo-password"
CHANNELS = (("web", 0.65), ("telegram", 0.35))
CATEGORIES = (("orders", 30), ("billing", 20), ("shipping", 20), ("returns", 12), ("account", 10), ("technical", 8))
REASONS = (
    ("customer_request", 40), ("complaint", 14), ("repeated_fallback", 20), ("negative_feedback", 10),
    ("negative_sentiment", 11), ("bot_error", 5),
)
INTENTS = (
    ("faq_question", 50), ("greet", 12), ("request_human", 8), ("complain", 6), ("thank", 8),
    ("order_status", 10), ("goodbye", 6),
)
FAQS = ("shipping-times", "return-policy", "payment-methods", "reset-password", "invoice-copy",
        "change-address", "cancel-order", "warranty", "delivery-countries", "track-order")
QUESTIONS = (
    "How long does shipping take to {city}?", "Can I return shoes I wore once?",
    "Which payment methods do you accept?", "I forgot my password", "I need a copy of my invoice",
    "Can I change the delivery address of order {order}?", "Please cancel order {order}",
    "Is the blender covered by warranty?", "Do you deliver to {city}?", "Where is my parcel {order}?",
    "The app keeps crashing when I pay", "I was charged twice for order {order}",
)
PII = (
    "my email is jane.doe{n}@example.com", "call me on +49 151 2345{n:04d}", "card 4111 1111 1111 1111",
    "IBAN DE89 3704 0044 0532 0130 00", "phone (030) 555-{n:04d}",
)
CITIES = ("Berlin", "Vienna", "Zurich", "Hamburg", "Munich", "Lyon")
TAGS = ("billing-issue", "good-handling", "training", "bug", "policy-gap", "escalate-to-product")
REVIEW_STATUSES = ("in_review", "reviewed", "reviewed", "needs_follow_up")
PRIORITY_RESOLUTION = {1: timedelta(hours=4), 2: timedelta(hours=8), 3: timedelta(hours=24)}
AGENTS = 8


def weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class Tables:
    """Rows per table, in insertion order, as tuples in the column order given."""

    COLUMNS: dict[str, tuple[str, ...]] = {
        "conversations": ("id", "channel", "external_id", "created_at", "last_activity_at"),
        "messages": (
            "id", "conversation_id", "channel", "direction", "author", "text", "status", "intent",
            "intent_confidence", "faq_trail", "latency_ms", "reply_to_id", "feedback", "feedback_at", "created_at",
        ),
        "tickets": (
            "id", "conversation_id", "channel", "customer_key", "reason", "category", "priority", "status",
            "assignee_id", "subject", "summary", "details", "sentiment", "repeat_contact", "created_at",
            "queued_at", "claimed_at", "first_response_due", "first_response_at", "resolution_due",
            "resolved_at", "closed_at", "close_reason", "reopen_count", "updated_at", "version",
        ),
        "ticket_events": ("id", "ticket_id", "at", "actor_kind", "actor_id", "kind", "from_status", "to_status"),
        "csat_surveys": (
            "id", "conversation_id", "channel", "ticket_id", "trigger", "state", "rating", "would_recommend",
            "comment", "asked_at", "rated_at", "updated_at",
        ),
        "conversation_reviews": ("conversation_id", "status", "reviewer_id", "updated_at"),
        "conversation_tags": ("conversation_id", "tag", "created_by", "created_at"),
        # Who holds the conversations whose tickets are still open (the desk's invariant:
        # an assigned ticket's conversation is owned by its agent, a waiting one is queued).
        "conversation_owners": ("conversation_id", "owner", "agent_id", "ticket_id", "channel", "updated_at",
                                "version"),
        "agent_presence": ("agent_id", "status", "last_seen_at", "changed_at"),
    }

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.COLUMNS}


class Generator:
    def __init__(self, rng: random.Random, end: datetime, days: int, agents: list[int], supervisor: int) -> None:
        self.rng = rng
        self.end = end
        self.start = end - timedelta(days=days)
        self.days = days
        self.agents = agents
        self.supervisor = supervisor
        self.out = Tables()
        self.message_id = 0
        self.ticket_id = 0
        self.event_id = 0
        self.survey_id = 0

    # When conversations start: weekdays busier, office hours busiest.
    def start_times(self, count: int) -> list[datetime]:
        rng = self.rng
        day_weights = [(0.6 if (self.start + timedelta(days=d)).weekday() >= 5 else 1.0) for d in range(self.days)]
        hour_weights = [0.2 if h < 7 or h > 21 else (1.6 if 9 <= h <= 17 else 0.8) for h in range(24)]
        days = rng.choices(range(self.days), weights=day_weights, k=count)
        hours = rng.choices(range(24), weights=hour_weights, k=count)
        moments = [
            self.start + timedelta(days=d, hours=h, seconds=rng.randrange(3600)) for d, h in zip(days, hours)
        ]
        return sorted(moment for moment in moments if moment < self.end - timedelta(minutes=1))

    def message_counts(self, count: int, total: int, escalated: list[bool]) -> list[int]:
        """At least 2 messages each, the rest spread (escalated conversations run longer);
        the sum is exactly ``total``."""
        counts = [2] * count
        remaining = total - 2 * count
        if remaining < 0:
            raise SystemExit("--messages must be at least twice --conversations")
        weights = [4.0 if flag else 1.0 for flag in escalated]
        for index in self.rng.choices(range(count), weights=weights, k=remaining):
            counts[index] += 1
        return counts

    def customer_text(self, index: int) -> str:
        rng = self.rng
        line = rng.choice(QUESTIONS).format(city=rng.choice(CITIES), order=f"A{rng.randrange(10**6):06d}")
        if rng.random() < 0.05:
            line += ", " + rng.choice(PII).format(n=index % 10000)
        return line

    def add_message(self, cid: str, channel: str, direction: str, author: str, at: datetime, text_: str, *,
                    intent: tuple[str, float] | None = None, trail: dict[str, Any] | None = None,
                    latency: float | None = None, reply_to: int | None = None, feedback: str | None = None,
                    feedback_at: datetime | None = None) -> int:
        self.message_id += 1
        self.out.rows["messages"].append((
            self.message_id, cid, channel, direction, author, text_,
            "answered" if direction == "in" else "sent",
            intent[0] if intent else None, intent[1] if intent else None,
            json.dumps(trail) if trail else None, latency, reply_to, feedback, feedback_at, at,
        ))
        return self.message_id

    def bot_turn(self, cid: str, channel: str, at: datetime, question: int, index: int, complaint_day: bool) -> datetime:
        """A customer message and the bot's answer; returns the time after the answer."""
        rng = self.rng
        intent = weighted(rng, INTENTS)
        if complaint_day and rng.random() < 0.5:
            intent = "complain"
        confidence = round(rng.betavariate(8, 2), 3)
        asked = self.add_message(cid, channel, "in", "customer", at, self.customer_text(index),
                                 intent=(intent, confidence))
        answered_at = at + timedelta(milliseconds=rng.randint(150, 2500))
        trail = None
        feedback = feedback_at = None
        if intent == "faq_question":
            roll = rng.random()
            rule = "answer" if roll < 0.58 else "suggest" if roll < 0.74 else "selected" if roll < 0.82 else (
                "fallback" if roll < 0.97 else "unknown_selection")
            score = round(rng.uniform(0.68, 0.95) if rule in ("answer", "selected") else rng.uniform(0.2, 0.68), 3)
            trail = {"rule": rule, "faq_id": rng.choice(FAQS) if rule in ("answer", "selected") else None,
                     "score": score, "candidates": [rng.choice(FAQS) for _ in range(3 if rule == "suggest" else 1)]}
            if rule in ("answer", "selected") and rng.random() < 0.18:
                feedback = "up" if rng.random() < 0.74 else "down"
                feedback_at = answered_at + timedelta(seconds=rng.randint(5, 120))
        reply = "Here is what I found." if trail and trail["rule"] in ("answer", "selected") else (
            "Did you mean one of these?" if trail and trail["rule"] == "suggest" else "Sorry, I did not get that.")
        self.add_message(cid, channel, "out", "bot", answered_at, reply, trail=trail,
                         latency=float(rng.randint(40, 900)), reply_to=asked, feedback=feedback,
                         feedback_at=feedback_at)
        return answered_at + timedelta(seconds=rng.randint(10, 240))

    def conversation(self, index: int, started: datetime, message_count: int, escalate: bool, blank: bool) -> None:
        rng = self.rng
        cid = hex_id(rng)
        channel = weighted(rng, CHANNELS)
        external = str(10**8 + index) if channel == "telegram" else None
        complaint_day = started >= self.end - timedelta(days=1)
        at = started
        if blank:  # an opened widget: greetings only, the customer never wrote
            for _ in range(message_count):
                self.add_message(cid, channel, "out", "bot", at, "Hi! How can I help?")
                at += timedelta(seconds=1)
            self.out.rows["conversations"].append((cid, channel, external, started, at))
            return
        bot_messages = message_count if not escalate else max(2, (message_count * 2 // 5) // 2 * 2)
        turns = bot_messages // 2
        for turn in range(turns):
            at = self.bot_turn(cid, channel, at, turn, index, complaint_day)
        human_messages = message_count - 2 * turns
        ticket_at = at
        if escalate:
            at = self.ticket(cid, channel, ticket_at, human_messages, complaint_day, index)
        elif human_messages:  # odd count: a last customer word ("thanks")
            self.add_message(cid, channel, "in", "customer", at, "thanks", intent=("thank", 0.97))
        if not escalate and rng.random() < 0.2:  # the bot closed the chat and asked for a rating
            self.survey(cid, channel, None, "bot_resolved", at + timedelta(seconds=30))
        roll = rng.random()
        if roll < 0.03 or (escalate and roll < 0.1):
            self.out.rows["conversation_reviews"].append(
                (cid, rng.choice(REVIEW_STATUSES), self.supervisor, at + timedelta(days=1)))
            for tag in rng.sample(TAGS, rng.randint(1, 2)):
                self.out.rows["conversation_tags"].append((cid, tag, self.supervisor, at + timedelta(days=1)))
        self.out.rows["conversations"].append((cid, channel, external, started, min(at, self.end)))

    def event(self, ticket_id: int, at: datetime, kind: str, actor: str, actor_id: str | None,
              from_status: str | None, to_status: str | None) -> None:
        self.event_id += 1
        self.out.rows["ticket_events"].append((self.event_id, ticket_id, at, actor, actor_id, kind, from_status, to_status))

    def survey(self, cid: str, channel: str, ticket_id: int | None, trigger: str, asked_at: datetime) -> None:
        rng = self.rng
        if asked_at >= self.end:
            return
        self.survey_id += 1
        responded = rng.random() < (0.45 if trigger == "ticket_resolved" else 0.35)
        rated_at = asked_at + timedelta(seconds=rng.randint(20, 600))
        if not responded or rated_at >= self.end:
            state = "expired" if asked_at < self.end - timedelta(hours=1) else "asked"
            self.out.rows["csat_surveys"].append(
                (self.survey_id, cid, channel, ticket_id, trigger, state, None, None, None, asked_at, None, asked_at))
            return
        rating = rng.choices((1, 2, 3, 4, 5), weights=(6, 6, 12, 30, 46))[0]
        recommend = None if rng.random() < 0.3 else rating >= 4 or (rating == 3 and rng.random() < 0.3)
        comment = rng.choice((None, None, "quick and friendly", "took too long", "the bot did not understand me"))
        state = "done" if comment else "recommended" if recommend is not None else "rated"
        self.out.rows["csat_surveys"].append((self.survey_id, cid, channel, ticket_id, trigger, state, rating,
                                              recommend, comment, asked_at, rated_at, rated_at))

    def ticket(self, cid: str, channel: str, created: datetime, human_messages: int, complaint_day: bool,
               index: int) -> datetime:
        """A ticket through its life; agent and customer messages fill ``human_messages``."""
        rng = self.rng
        self.ticket_id += 1
        tid = self.ticket_id
        reason = weighted(rng, REASONS)
        category = weighted(rng, CATEGORIES)
        if complaint_day and rng.random() < 0.35:
            reason, category = "complaint", "billing"
        priority = 1 if reason == "complaint" else rng.choice((2, 3, 3))
        first_due = created + timedelta(minutes=5)
        resolution_due = created + PRIORITY_RESOLUTION[priority]
        self.event(tid, created, "received", "bot", None, None, "received")
        self.event(tid, created, "classified", "system", None, "received", "classified")
        values: dict[str, Any] = dict(
            assignee_id=None, claimed_at=None, first_response_at=None, resolved_at=None, closed_at=None,
            close_reason=None, reopen_count=0, status="classified",
        )
        wait = timedelta(seconds=min(rng.expovariate(1 / 150), 3 * 3600))
        at = created
        if rng.random() < 0.06 and created + wait < self.end:  # left the queue
            values.update(closed_at=created + wait, close_reason="abandoned", status="closed")
            self.event(tid, created + wait, "abandoned", "customer", cid, "classified", "closed")
            at = created + wait
        elif created + wait < self.end:
            agent = rng.choice(self.agents)
            claimed = created + wait
            values.update(assignee_id=agent, claimed_at=claimed, status="assigned")
            self.event(tid, claimed, "claimed", "agent", str(agent), "classified", "assigned")
            first = claimed + timedelta(seconds=rng.randint(15, 240))
            resolve_in = timedelta(seconds=min(rng.lognormvariate(math.log(2400), 1.3), 4 * 86400))
            if first < self.end:
                values.update(first_response_at=first, status="in_progress")
                self.event(tid, first, "first_response", "agent", str(agent), "assigned", "in_progress")
            resolved = first + resolve_in
            if resolved < self.end:
                values.update(resolved_at=resolved, status="resolved")
                self.event(tid, resolved, "resolved", "agent", str(agent), "in_progress", "resolved")
                if rng.random() < 0.06 and resolved + timedelta(hours=3) < self.end:  # reopened, second cycle
                    reopened = resolved + timedelta(hours=rng.randint(1, 3))
                    self.event(tid, reopened, "reopened", "customer", cid, "resolved", "reopened")
                    again = reopened + timedelta(minutes=rng.randint(2, 90))
                    resolution_due = reopened + PRIORITY_RESOLUTION[priority]
                    first_due = reopened + timedelta(minutes=5)
                    values.update(reopen_count=1, queued_at=reopened, status="reopened", resolved_at=None,
                                  first_response_at=None, claimed_at=None)
                    if again < self.end:
                        values.update(claimed_at=reopened + timedelta(minutes=1),
                                      first_response_at=reopened + timedelta(minutes=1), resolved_at=again,
                                      status="resolved")
                        self.event(tid, again, "resolved", "agent", str(agent), "reopened", "resolved")
                if values["resolved_at"] is not None:
                    self.survey(cid, channel, tid, "ticket_resolved", values["resolved_at"] + timedelta(minutes=1))
                    closed = values["resolved_at"] + timedelta(days=3)
                    if closed < self.end:
                        values.update(closed_at=closed, close_reason="resolved", status="closed")
                        self.event(tid, closed, "closed", "system", None, "resolved", "closed")
            at = first
        # Agent and customer messages after the handoff, alternating, within the ticket's life.
        moment = at
        for number in range(human_messages):
            moment += timedelta(seconds=rng.randint(20, 300))
            if number % 2 == 0 and values["assignee_id"] is not None:
                self.add_message(cid, channel, "out", "agent", moment, "Let me check that for you.")
            else:
                self.add_message(cid, channel, "in", "customer", moment, self.customer_text(index))
        if values["status"] in ("assigned", "in_progress"):
            self.out.rows["conversation_owners"].append(
                (cid, "agent", values["assignee_id"], tid, channel, values["claimed_at"] or created, 1))
        elif values["status"] in ("classified", "reopened"):
            self.out.rows["conversation_owners"].append((cid, "queued", None, tid, channel, created, 1))
        self.out.rows["tickets"].append((
            tid, cid, channel, None, reason, category, priority, values["status"], values["assignee_id"],
            f"{category}: {reason.replace('_', ' ')}", "", json.dumps({}), round(rng.uniform(-1, 0.5), 2),
            rng.random() < 0.08, created, values.get("queued_at", created), values["claimed_at"], first_due,
            values["first_response_at"], resolution_due, values["resolved_at"], values["closed_at"],
            values["close_reason"], values["reopen_count"], created, 1,
        ))
        return moment


# Loading --------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite DateTime storage format, UTC
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def load(engine: Engine, tables: Tables) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = engine.dialect.name == "postgresql"
        for name, columns in Tables.COLUMNS.items():
            rows = tables.rows[name]
            if not rows:
                continue
            if postgres:
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",
                    ([_sqlite_value(v) for v in row] for row in rows),
                )
        if postgres:  # explicit ids were copied: move the sequences past them
            for name in ("messages", "tickets", "ticket_events", "csat_surveys"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
        raw.commit()
        if postgres:
            driver = raw.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]  # VACUUM refuses transactions
            driver.execute("VACUUM ANALYZE")  # type: ignore[union-attr]
            driver.autocommit = False  # type: ignore[union-attr]
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


def ensure_users(engine: Engine, password: str) -> tuple[list[int], int]:
    """Agents agent1..agent8, a supervisor and an admin (kept if they exist)."""
    users = UserDirectory(make_session_factory(engine), Passwords())
    existing = {user.email: user.id for user in users.list()}
    actor = Actor(user_id=None, label="seed_support_data")

    def ensure(email: str, name: str, role: str) -> int:
        if email in existing:
            return existing[email]
        return users.create(email, name, role, password, actor).id

    agents = [ensure(f"agent{n}@example.com", f"Agent {n}", "agent") for n in range(1, AGENTS + 1)]
    supervisor = ensure("supervisor@example.com", "Sam Supervisor", "supervisor")
    ensure("admin@example.com", "Ada Admin", "admin")
    return agents, supervisor


def seed(url: str, conversations: int, messages: int, days: int, seed_value: int, password: str,
         end: datetime | None = None) -> dict[str, int]:
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(Conversation)):
                raise SystemExit("the database already has conversations; seed a fresh one")
        agents, supervisor = ensure_users(engine, password)
        rng = random.Random(seed_value)
        end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        generator = Generator(rng, end, days, agents, supervisor)
        starts = generator.start_times(conversations)
        while len(starts) < conversations:  # the few that fell in the last minute
            starts.append(generator.end - timedelta(minutes=2))
        escalated = [rng.random() < 0.14 for _ in starts]
        blank = [not flag and rng.random() < 0.02 for flag in escalated]
        counts = generator.message_counts(len(starts), messages, escalated)
        for index, started in enumerate(starts):
            generator.conversation(index, started, counts[index], escalated[index], blank[index])
        for agent in agents:  # signed in at the end of the seeded span
            generator.out.rows["agent_presence"].append((agent, "online", generator.end, generator.end))
        load(engine, generator.out)
        return {name: len(rows) for name, rows in generator.out.rows.items()}
    finally:
        engine.dispose()


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="sqlite:///path.db or postgresql://user@host/db")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the seeded users")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.conversations < 1 or args.days < 1:
        parser.error("--conversations and --days must be positive")
    started = time.perf_counter()
    counts = seed(sqlalchemy_url(args.url), args.conversations, args.messages, args.days, args.seed, args.password)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"seeded {summary} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
