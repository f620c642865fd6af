"""How tickets end: hand-back to the bot, resolution, closing resolved tickets after
the reopen window, and a customer leaving the queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.base import Actor, HandoffCore, SYSTEM, _flush
from handoff.lifecycle import CloseReason, TicketStatus
from handoff.models import ConversationOwner, Ticket
from handoff.ownership import CustomerCancels, Event, HandBack, Owner, Resolve


logger = logging.getLogger(__name__)


class Closing(HandoffCore):
    """Hand-back, resolution, closing and a customer leaving the queue (part of ``handoff.Handoff``)."""

    def hand_back(
        self, session: Session, ticket_id: int, agent_id: int, note: str = ""
    ) -> Ticket:
        """The agent is done and the bot resumes: ticket resolved (reopenable within the
        window), owner -> BOT. ``note`` is the resolution note / context for the bot.

        Resolved rather than waiting_on_customer because no one would watch an open
        ticket whose conversation the bot owns: open tickets are always queued or held
        by an agent.
        """
        return self._finish(session, ticket_id, agent_id, note, None, "handed_back")

    def resolve(
        self, session: Session, ticket_id: int, agent_id: int, note: str,
        category: str | None = None,
    ) -> Ticket:
        """Resolved with a note and (optionally corrected) category; owner -> BOT."""
        if category is not None:
            self.policy.category(category)
        return self._finish(session, ticket_id, agent_id, note, category, "resolved")

    def _finish(
        self, session: Session, ticket_id: int, agent_id: int, note: str,
        category: str | None, kind: str,
    ) -> Ticket:
        ticket, now = self._owned_ticket(session, ticket_id, agent_id)
        event: Event = HandBack(agent_id) if kind == "handed_back" else Resolve(agent_id)
        self._transition(session, ticket.conversation_id, ticket.channel, event, now)
        data: dict[str, Any] = {}
        if category is not None and category != ticket.category:
            data = {"category": category, "previous_category": ticket.category}
            ticket.category = category
        self._move(session, ticket, TicketStatus.RESOLVED, Actor.agent(agent_id), kind, now,
                   note=note or None, data=data or None)
        ticket.resolved_at = now
        ticket.resolution_note = note or None
        _flush(session)
        logger.info("agent %s %s %s", agent_id, kind.replace("_", " "), ticket.number)
        return ticket

    def close_resolved(self, session: Session, older_than: timedelta | None = None) -> int:
        """Close tickets resolved longer ago than ``older_than`` (default: the reopen
        window); they can no longer be reopened. Returns how many were closed."""
        now = self.now()
        cutoff = now - (older_than if older_than is not None else self.policy.reopen_window)
        tickets = session.scalars(
            select(Ticket).where(
                Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < cutoff
            )
        ).all()
        for ticket in tickets:
            self._move(session, ticket, TicketStatus.CLOSED, SYSTEM, "closed", now)
            ticket.closed_at = now
            ticket.close_reason = CloseReason.RESOLVED
        _flush(session)
        return len(tickets)

    def cancel_by_customer(self, session: Session, conversation_id: str) -> Ticket | None:
        """The customer leaves the queue ("never mind"): ticket closed as abandoned,
        owner -> BOT. None if the bot already owns the conversation; IllegalTransition
        once an agent has it (the customer talks to the agent then)."""
        state = self.owner_of(session, conversation_id)
        if state.owner is Owner.BOT:
            return None
        assert state.ticket_id is not None
        ticket = self._ticket(session, state.ticket_id)
        now = self.now()
        row = session.get(ConversationOwner, conversation_id)
        assert row is not None
        self._transition(session, conversation_id, row.channel, CustomerCancels(), now)
        self._move(session, ticket, TicketStatus.CLOSED, Actor.customer(conversation_id),
                   "abandoned", now)
        ticket.closed_at = now
        ticket.close_reason = CloseReason.ABANDONED
        _flush(session)
        logger.info("customer left the queue: %s abandoned", ticket.number)
        return ticket
