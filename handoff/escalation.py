"""Escalation: a conversation's ticket is opened, escalated again or reopened, and
the queue is told when nobody can take it right now.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.base import (
    Actor,
    HandoffCore,
    MAX_SUMMARY_CHARS,
    SUBJECT_CHARS,
    SYSTEM,
    _check_channel,
    _check_conversation_id,
    _check_details,
    _escalation_actor,
    _flush,
    _subject_from,
)
from handoff.lifecycle import EscalationReason, TicketStatus, parse_reason
from handoff.models import Ticket
from handoff.ownership import Escalate, Event, NoAgent, Owner, Reopen
from handoff.presence import online_agent_ids
from handoff.sla import due_times


logger = logging.getLogger(__name__)


class Escalation(HandoffCore):
    """Opening, escalating again and reopening tickets (part of ``handoff.Handoff``)."""

    def escalate(
        self,
        session: Session,
        conversation_id: str,
        channel: str,
        reason: str | EscalationReason,
        *,
        category: str | None = None,
        subject: str | None = None,
        summary: str = "",
        details: Mapping[str, Any] | None = None,
        sentiment: float | None = None,
        customer_key: str | None = None,
    ) -> Ticket:
        """Hand the conversation to the queue and return its ticket.

        - The conversation already has an open ticket (queued or with an agent): that
          ticket is returned, the escalation recorded on it ("escalated_again"), new
          details merged in and its priority raised if the new reason warrants it.
        - Its last ticket was resolved within the reopen window: that ticket is reopened.
        - Otherwise a new ticket: received -> classified, priority and SLA due times set.
        """
        why = parse_reason(reason)
        _check_conversation_id(conversation_id)
        channel = _check_channel(channel)
        if category is not None:
            self.policy.category(category)  # ValueError for an unknown category
        if sentiment is not None and not -1.0 <= sentiment <= 1.0:
            raise ValueError("sentiment must be within [-1, 1]")
        if len(summary) > MAX_SUMMARY_CHARS:
            raise ValueError(f"summary longer than {MAX_SUMMARY_CHARS} characters")
        extra = _check_details(details)
        if customer_key is not None and not 0 < len(customer_key) <= 128:
            raise ValueError("customer_key must be 1-128 characters")
        now = self.now()
        actor = _escalation_actor(why, conversation_id)
        state = self.owner_of(session, conversation_id)

        if state.owner is not Owner.BOT:
            assert state.ticket_id is not None
            ticket = self._ticket(session, state.ticket_id)
            return self._escalate_again(
                session, ticket, why, actor, now, summary, extra, sentiment
            )

        previous = self._reopenable(session, conversation_id, now)
        event: Event
        if previous is not None:
            ticket = self._reopen(session, previous, why, actor, now, sentiment, extra)
            event = Reopen(ticket.id)
        else:
            ticket = self._open_ticket(
                session, conversation_id, channel, why, actor, now,
                category=category, subject=subject, summary=summary, details=extra,
                sentiment=sentiment, customer_key=customer_key,
            )
            event = Escalate(why, ticket.id)
        self._transition(session, conversation_id, channel, event, now)
        self._note_availability(session, ticket, now)
        _flush(session)
        logger.info(
            "escalated %s (%s, %s, priority %d) for conversation %s",
            ticket.number, why, ticket.category, ticket.priority, conversation_id,
        )
        return ticket

    def _open_ticket(
        self,
        session: Session,
        conversation_id: str,
        channel: str,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        *,
        category: str | None,
        subject: str | None,
        summary: str,
        details: dict[str, Any],
        sentiment: float | None,
        customer_key: str | None,
    ) -> Ticket:
        repeat = self._is_repeat_contact(session, conversation_id, customer_key, now)
        words = " ".join([subject or "", summary, *(str(v) for v in details.values())])
        chosen = category or self.policy.classify(words)
        priority = self.policy.priority(chosen, reason, sentiment, repeat)
        first_due, resolution_due = due_times(self.policy, now, chosen)
        ticket = Ticket(
            conversation_id=conversation_id,
            channel=channel,
            customer_key=customer_key,
            reason=reason,
            category=chosen,
            priority=priority,
            status=TicketStatus.RECEIVED,
            subject=(subject or _subject_from(summary, reason))[:SUBJECT_CHARS],
            summary=summary,
            details=details,
            sentiment=sentiment,
            repeat_contact=repeat,
            created_at=now,
            queued_at=now,
            first_response_due=first_due,
            resolution_due=resolution_due,
            reopen_count=0,
            updated_at=now,
        )
        session.add(ticket)
        _flush(session)  # the id is needed for the events
        self._event(session, ticket, actor, "received", now, to_status=TicketStatus.RECEIVED,
                    data={"reason": str(reason)})
        self._move(
            session, ticket, TicketStatus.CLASSIFIED, SYSTEM, "classified", now,
            data={
                "category": chosen,
                "classified_by": "caller" if category else "keywords",
                "priority": priority,
                "repeat_contact": repeat,
                "sentiment": sentiment,
            },
        )
        return ticket

    def _escalate_again(
        self,
        session: Session,
        ticket: Ticket,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        summary: str,
        details: dict[str, Any],
        sentiment: float | None,
    ) -> Ticket:
        if sentiment is not None:
            ticket.sentiment = sentiment if ticket.sentiment is None else min(ticket.sentiment, sentiment)
        # Escalating again only ever makes a ticket more urgent.
        ticket.priority = min(
            ticket.priority,
            self.policy.priority(ticket.category, reason, ticket.sentiment, ticket.repeat_contact),
        )
        merged = dict(ticket.details or {})
        merged.update({k: v for k, v in details.items() if k not in merged})
        ticket.details = merged
        if summary and not ticket.summary:
            ticket.summary = summary
        ticket.updated_at = now
        self._event(session, ticket, actor, "escalated_again", now,
                    data={"reason": str(reason), "priority": ticket.priority})
        _flush(session)
        return ticket

    def _reopenable(self, session: Session, conversation_id: str, now: datetime) -> Ticket | None:
        latest = session.scalars(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        ).first()
        if (
            latest is not None
            and latest.status == TicketStatus.RESOLVED
            and latest.resolved_at is not None
            and now - latest.resolved_at <= self.policy.reopen_window
        ):
            return latest
        return None

    def _reopen(
        self,
        session: Session,
        ticket: Ticket,
        reason: EscalationReason,
        actor: Actor,
        now: datetime,
        sentiment: float | None,
        details: dict[str, Any],
    ) -> Ticket:
        """Back to the queue (not straight to the same agent: they may be busy or gone);
        the previous agent is kept on the ticket so the console can point it out."""
        self._move(
            session, ticket, TicketStatus.REOPENED, actor, "reopened", now,
            data={"reason": str(reason), "previous_assignee_id": ticket.assignee_id,
                  "previous_resolution_note": ticket.resolution_note},
        )
        ticket.reopen_count += 1
        ticket.repeat_contact = True
        ticket.previous_assignee_id = ticket.assignee_id
        ticket.assignee_id = None
        if sentiment is not None:
            ticket.sentiment = sentiment
        ticket.priority = self.policy.priority(ticket.category, reason, ticket.sentiment, True)
        ticket.details = {**(ticket.details or {}), **details}
        # A reopened ticket needs a fresh first answer; its clock restarts.
        ticket.first_response_due, ticket.resolution_due = due_times(
            self.policy, now, ticket.category
        )
        ticket.first_response_at = None
        ticket.resolved_at = None
        ticket.resolution_note = None
        ticket.queued_at = now
        ticket.claimed_at = None
        return ticket

    def _is_repeat_contact(
        self, session: Session, conversation_id: str, customer_key: str | None, now: datetime
    ) -> bool:
        same_customer = Ticket.conversation_id == conversation_id
        if customer_key:
            same_customer = same_customer | (Ticket.customer_key == customer_key)
        earlier = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(same_customer, Ticket.created_at >= now - self.policy.repeat_contact_window)
        )
        return bool(earlier)

    def _note_availability(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Record on the ticket that nobody can take it right now (it stays queued)."""
        open_now = self.policy.opening_hours.is_open(now)
        online = online_agent_ids(session, now, self.policy.presence_timeout)
        if open_now and online:
            return
        kind = "after_hours" if not open_now else "no_agent_online"
        self._transition(session, ticket.conversation_id, ticket.channel,
                         NoAgent(after_hours=not open_now), now)
        self._event(session, ticket, SYSTEM, kind, now,
                    data={"next_opening": self.policy.opening_hours.next_opening(now).isoformat()})
