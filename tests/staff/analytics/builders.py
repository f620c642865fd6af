"""Hand-built rows: insert conversations, messages, tickets and events with the models,
with only the fields a KPI reads spelled out in each test."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.csat.models import CsatSurvey
from bot.transcript.models import Conversation, Message
from handoff.models import Ticket, TicketEvent

_numbers = itertools.count(1)


class RowBuilder:
    def __init__(self, session: Session) -> None:
        self.session = session

    def conversation(
        self, at: datetime, *, channel: str = "web", customer_wrote: bool = True, name: str | None = None
    ) -> str:
        cid = name or f"c{next(_numbers):031d}"
        self.session.add(Conversation(id=cid, channel=channel, created_at=at, last_activity_at=at))
        self.session.flush()
        if customer_wrote:
            self.message(cid, at, direction="in", author="customer", channel=channel)
        return cid

    def message(
        self,
        cid: str,
        at: datetime,
        *,
        direction: str = "out",
        author: str = "bot",
        channel: str = "web",
        rule: str | None = None,
        feedback: str | None = None,
        feedback_at: datetime | None = None,
    ) -> None:
        self.session.add(
            Message(
                conversation_id=cid, channel=channel, direction=direction, author=author, text="x",
                status="answered" if direction == "in" else "sent",
                faq_trail={"rule": rule, "faq_id": "f1" if rule in ("answer", "selected") else None} if rule else None,
                feedback=feedback, feedback_at=feedback_at or (at if feedback else None), created_at=at,
            )
        )
        self.session.flush()

    def ticket(self, cid: str, created_at: datetime, **fields: Any) -> Ticket:
        values: dict[str, Any] = {
            "channel": "web",
            "reason": "customer_request",
            "category": "orders",
            "priority": 3,
            "status": "classified",
            "queued_at": created_at,
            "first_response_due": created_at + timedelta(minutes=5),
            "resolution_due": created_at + timedelta(hours=24),
            "updated_at": created_at,
        }
        values.update(fields)
        ticket = Ticket(conversation_id=cid, created_at=created_at, **values)
        self.session.add(ticket)
        self.session.flush()
        return ticket

    def event(self, ticket: Ticket, kind: str, at: datetime) -> None:
        self.session.add(TicketEvent(ticket_id=ticket.id, at=at, actor_kind="system", kind=kind))
        self.session.flush()

    def survey(
        self,
        cid: str,
        asked_at: datetime,
        rating: int | None = None,
        *,
        rated_at: datetime | None = None,
        would_recommend: bool | None = None,
        channel: str = "web",
    ) -> None:
        """A CSAT survey asked at ``asked_at``; rated (a minute later unless given) when
        ``rating`` is set."""
        if rating is not None and rated_at is None:
            rated_at = asked_at + timedelta(minutes=1)
        self.session.add(
            CsatSurvey(
                conversation_id=cid, channel=channel, trigger="bot_resolved",
                state="asked" if rating is None else ("recommended" if would_recommend is not None else "rated"),
                rating=rating, would_recommend=would_recommend, asked_at=asked_at, rated_at=rated_at,
                updated_at=rated_at or asked_at,
            )
        )
        self.session.flush()
