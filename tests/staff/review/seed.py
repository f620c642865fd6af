"""Hand-built conversations for the review tests: every filter has rows that match it
and rows that do not, and the texts carry PII (to be redacted) and near-misses (to stay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.csat.models import CsatSurvey
from staff.review.models import ConversationReview, ConversationTag, ReviewComment
from bot.transcript.models import Conversation, Message
from handoff.models import Ticket, TicketEvent, TicketNote

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# PII that must never reach a supervisor, and look-alikes that must stay readable.
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"  # passes Luhn
NOT_A_CARD = "4111 1111 1111 1112"  # fails Luhn: an order number, kept
IBAN = "DE89 3704 0044 0532 0130 00"
PHONE = "+44 20 7946 0958"
PHONE_DE = "030 1234567"
PII = (EMAIL, CARD, IBAN, PHONE, PHONE_DE, "4111111111111111")


@dataclass
class Seeded:
    bot: str  # answered by the bot, rated 5, tagged, reviewed
    complaint: str  # telegram, complaint ticket resolved by the supervisor's agent, rated 2 then 4
    abandoned: str  # left the queue
    mixed: str  # one abandoned and one resolved ticket: escalated
    empty: str  # opened, the customer never wrote: not listed
    old: str  # ten days earlier, fallback and thumbs-down
    agent_id: int


def _cid(n: int) -> str:
    return f"{n:032x}"


def _msg(session: Session, cid: str, at: datetime, author: str, text: str, **fields: Any) -> Message:
    direction = "in" if author == "customer" else "out"
    message = Message(conversation_id=cid, channel=fields.pop("channel", "web"), direction=direction,
                      author=author, text=text, status="answered" if direction == "in" else "sent",
                      created_at=at, **fields)
    session.add(message)
    session.flush()
    return message


def _conversation(session: Session, n: int, at: datetime, channel: str = "web") -> str:
    cid = _cid(n)
    session.add(Conversation(id=cid, channel=channel, created_at=at, last_activity_at=at + timedelta(minutes=9)))
    session.flush()
    return cid


def _ticket(session: Session, cid: str, at: datetime, **fields: Any) -> Ticket:
    values: dict[str, Any] = {
        "channel": "web", "reason": "customer_request", "category": "orders", "priority": 3,
        "status": "classified", "queued_at": at, "first_response_due": at + timedelta(minutes=5),
        "resolution_due": at + timedelta(hours=24), "updated_at": at,
    }
    values.update(fields)
    ticket = Ticket(conversation_id=cid, created_at=at, **values)
    session.add(ticket)
    session.flush()
    return ticket


def seed(session: Session, agent_id: int) -> Seeded:
    # 1. The bot answered; rated 5 with a comment holding a phone number.
    bot = _conversation(session, 1, T0)
    question = _msg(session, bot, T0, "customer", f"How do I return shoes? Mail me at {EMAIL}",
                    intent="faq", intent_confidence=0.91, latency_ms=140.0)
    _msg(session, bot, T0 + timedelta(seconds=2), "bot", "Returns are free within 30 days.",
         reply_to_id=question.id, intent="faq",
         faq_trail={"faq_id": "returns", "score": 0.83, "rule": "answer",
                    "top3": [{"faq_id": "returns", "score": 0.83}, {"faq_id": "refunds", "score": 0.51},
                             {"faq_id": "exchange", "score": 0.40}]},
         feedback="up", feedback_at=T0 + timedelta(minutes=1))
    session.add(CsatSurvey(conversation_id=bot, channel="web", trigger="bot_resolved", state="done", rating=5,
                           would_recommend=True, comment=f"great, call me on {PHONE}",
                           asked_at=T0 + timedelta(minutes=2), rated_at=T0 + timedelta(minutes=3),
                           updated_at=T0 + timedelta(minutes=3)))
    session.add(ConversationTag(conversation_id=bot, tag="good-answer", created_by=agent_id, created_at=T0))
    session.add(ConversationReview(conversation_id=bot, status="reviewed", reviewer_id=agent_id, updated_at=T0))

    # 2. Telegram complaint, claimed and resolved by the agent, rated twice (2, then 4).
    complaint = _conversation(session, 2, T0 + timedelta(hours=1), channel="telegram")
    _msg(session, complaint, T0 + timedelta(hours=1), "customer",
         f"My card {CARD} was charged twice! Order {NOT_A_CARD}", channel="telegram",
         intent="complaint", intent_confidence=0.77)
    ticket = _ticket(session, complaint, T0 + timedelta(hours=1, minutes=1), channel="telegram",
                     reason="complaint", category="payment", status="resolved", assignee_id=agent_id,
                     claimed_at=T0 + timedelta(hours=1, minutes=3), resolved_at=T0 + timedelta(hours=2),
                     subject=f"Charged twice, card {CARD}", summary=f"Customer {EMAIL} charged twice",
                     details={"contact": PHONE, "order": "no"}, resolution_note=f"Refunded to {IBAN}")
    session.add(TicketEvent(ticket_id=ticket.id, at=T0 + timedelta(hours=1, minutes=3), actor_kind="agent",
                            actor_id=str(agent_id), kind="claimed", from_status="classified", to_status="assigned"))
    session.add(TicketEvent(ticket_id=ticket.id, at=T0 + timedelta(hours=2), actor_kind="agent",
                            actor_id=str(agent_id), kind="resolved", from_status="in_progress",
                            to_status="resolved", note=f"Refunded to {IBAN}"))
    session.add(TicketNote(ticket_id=ticket.id, agent_id=agent_id, at=T0 + timedelta(hours=1, minutes=30),
                           text=f"Customer called from {PHONE_DE}"))
    _msg(session, complaint, T0 + timedelta(hours=1, minutes=5), "agent", "Hello, I'm on it.", channel="telegram")
    for rating, minutes in ((2, 0), (4, 30)):
        session.add(CsatSurvey(conversation_id=complaint, channel="telegram", ticket_id=ticket.id,
                               trigger="ticket_resolved", state="done", rating=rating,
                               asked_at=T0 + timedelta(hours=2, minutes=minutes),
                               rated_at=T0 + timedelta(hours=2, minutes=minutes + 1),
                               updated_at=T0 + timedelta(hours=2, minutes=minutes + 1)))
    session.add(ConversationReview(conversation_id=complaint, status="needs_follow_up", reviewer_id=agent_id,
                                   updated_at=T0))
    session.add(ReviewComment(conversation_id=complaint, author_id=agent_id, text=f"Call back on {PHONE}",
                              created_at=T0 + timedelta(hours=3)))

    # 3. Asked for a person, then left the queue.
    abandoned = _conversation(session, 3, T0 + timedelta(hours=2))
    _msg(session, abandoned, T0 + timedelta(hours=2), "customer", "I want to talk to a human",
         intent="request_human", intent_confidence=0.95)
    _ticket(session, abandoned, T0 + timedelta(hours=2, minutes=1), status="closed", close_reason="abandoned",
            closed_at=T0 + timedelta(hours=2, minutes=4))

    # 4. Same start time as 3 (keyset ties): an abandoned ticket, then a resolved one.
    mixed = _conversation(session, 4, T0 + timedelta(hours=2))
    _msg(session, mixed, T0 + timedelta(hours=2), "customer", "Where is my parcel?", intent="faq",
         intent_confidence=0.5)
    _ticket(session, mixed, T0 + timedelta(hours=2, minutes=1), status="closed", close_reason="abandoned",
            closed_at=T0 + timedelta(hours=2, minutes=2), reason="repeated_fallback")
    _ticket(session, mixed, T0 + timedelta(hours=2, minutes=5), status="resolved", assignee_id=agent_id,
            resolved_at=T0 + timedelta(hours=3), reason="customer_request")

    # 5. Opened the widget, never wrote.
    empty = _conversation(session, 5, T0 + timedelta(hours=4))

    # 6. Ten days before: the bot fell back and got a thumbs-down.
    old = _conversation(session, 6, T0 - timedelta(days=10))
    asked = _msg(session, old, T0 - timedelta(days=10), "customer", "Old question about delivery times",
                 intent="nlu_fallback", intent_confidence=0.2)
    _msg(session, old, T0 - timedelta(days=10) + timedelta(seconds=1), "bot", "Sorry, I did not get that.",
         reply_to_id=asked.id, faq_trail={"faq_id": None, "score": 0.2, "rule": "fallback", "top3": []},
         feedback="down", feedback_at=T0 - timedelta(days=10) + timedelta(minutes=1))
    session.flush()
    return Seeded(bot, complaint, abandoned, mixed, empty, old, agent_id)
