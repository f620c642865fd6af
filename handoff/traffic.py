"""Messages in a live conversation: where a customer's message goes, an agent's reply
(first response, in progress), waiting on the customer, and internal notes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.base import (
    Actor,
    HandoffCore,
    MAX_NOTE_CHARS,
    _check_conversation_id,
    _flush,
    _not_owner_reason,
    _ownership,
)
from handoff.errors import NotOwner
from handoff.lifecycle import TicketStatus
from handoff.models import ConversationOwner, Ticket, TicketNote
from handoff.ownership import Owner, Route


class Traffic(HandoffCore):
    """Customer messages, agent replies and internal notes in a live conversation (part of ``handoff.Handoff``)."""

    def record_customer_message(self, session: Session, conversation_id: str) -> Route:
        """Where a customer message goes (exactly one of bot, queue, agent).

        A reply while the ticket waits on the customer puts it back in progress. A
        message to the bot never reopens a resolved ticket by itself (see
        docs/handoff.md, "Reopening"): escalating again inside the window does.
        """
        state = self.owner_of(session, conversation_id)
        if state.owner is Owner.AGENT:
            assert state.ticket_id is not None
            ticket = self._ticket(session, state.ticket_id)
            if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
                now = self.now()
                self._move(session, ticket, TicketStatus.IN_PROGRESS,
                           Actor.customer(conversation_id), "customer_replied", now)
                _flush(session)
        return state.route()

    def record_agent_reply(self, session: Session, conversation_id: str, agent_id: int) -> Ticket:
        """Check that the agent owns the conversation (else ``NotOwner``, 403) and note the
        reply: the first one stamps ``first_response_at`` and moves assigned -> in_progress.

        Call it in the same transaction that stores the agent's message. On PostgreSQL
        the ownership row is locked until then, so a transfer or release cannot slip in
        between the check and the message.
        """
        _check_conversation_id(conversation_id)
        row = session.scalars(
            select(ConversationOwner)
            .where(ConversationOwner.conversation_id == conversation_id)
            .with_for_update()
        ).first()
        state = _ownership(row)
        if not state.agent_may_write(agent_id):
            raise NotOwner(_not_owner_reason(state, agent_id))
        assert state.ticket_id is not None
        ticket = self._ticket(session, state.ticket_id)
        now = self.now()
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            within = now <= ticket.first_response_due
            if ticket.status == TicketStatus.ASSIGNED:
                self._move(session, ticket, TicketStatus.IN_PROGRESS, Actor.agent(agent_id),
                           "first_response", now, data={"within_sla": within})
            else:
                self._event(session, ticket, Actor.agent(agent_id), "first_response", now,
                            data={"within_sla": within})
            _flush(session)
        elif ticket.status == TicketStatus.ASSIGNED:
            self._move(session, ticket, TicketStatus.IN_PROGRESS, Actor.agent(agent_id),
                       "agent_replied", now)
            _flush(session)
        return ticket

    def await_customer(self, session: Session, ticket_id: int, agent_id: int) -> Ticket:
        """The agent asked the customer something: waiting_on_customer until they reply."""
        ticket, now = self._owned_ticket(session, ticket_id, agent_id)
        self._move(session, ticket, TicketStatus.WAITING_ON_CUSTOMER, Actor.agent(agent_id),
                   "waiting_on_customer", now)
        _flush(session)
        return ticket

    def add_note(self, session: Session, ticket_id: int, agent_id: int, text: str) -> TicketNote:
        """An internal note (never shown to the customer); any agent may add one."""
        text = text.strip()
        if not text:
            raise ValueError("an empty note")
        if len(text) > MAX_NOTE_CHARS:
            raise ValueError(f"a note longer than {MAX_NOTE_CHARS} characters")
        ticket = self._ticket(session, ticket_id)
        now = self.now()
        note = TicketNote(ticket_id=ticket.id, agent_id=agent_id, at=now, text=text)
        session.add(note)
        _flush(session)
        self._event(session, ticket, Actor.agent(agent_id), "note_added", now,
                    data={"note_id": note.id})
        _flush(session)
        return note
