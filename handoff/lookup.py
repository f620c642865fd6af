"""Reading tickets: a customer's view of their ticket, a conversation's tickets, a
ticket's events and notes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.base import HandoffCore, _check_conversation_id
from handoff.errors import TicketNotFound
from handoff.models import Ticket, TicketEvent, TicketNote, parse_ticket_number
from handoff.queue import expected_wait, position_in_queue
from handoff.views import TicketStatusView


class Lookup(HandoffCore):
    """Reading tickets, their events and notes (part of ``handoff.Handoff``)."""

    def ticket_status(
        self, session: Session, number_or_id: str | int, conversation_id: str
    ) -> TicketStatusView:
        """A ticket of this conversation by number ("HL-1001") or id; another
        conversation's ticket is reported as not found (its existence is not leaked)."""
        _check_conversation_id(conversation_id)
        ticket_id = number_or_id if isinstance(number_or_id, int) else parse_ticket_number(
            number_or_id
        )
        ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is None or ticket.conversation_id != conversation_id:
            raise TicketNotFound(f"no ticket {number_or_id} in this conversation")
        now = self.now()
        position = position_in_queue(session, ticket.id)
        wait = None
        if position is not None:
            wait = expected_wait(session, self.policy, now, position,
                                 len(self.agents_online(session, now)))
        return TicketStatusView(
            ticket_id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            category=ticket.category,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            resolved_at=ticket.resolved_at,
            resolution_note=ticket.resolution_note,
            position=position,
            expected_wait=wait,
        )

    def tickets_of(
        self, session: Session, conversation_id: str, customer_key: str | None = None
    ) -> list[Ticket]:
        """Past and present tickets of a customer, newest first (for the console)."""
        same = Ticket.conversation_id == conversation_id
        if customer_key:
            same = same | (Ticket.customer_key == customer_key)
        return list(session.scalars(select(Ticket).where(same).order_by(Ticket.id.desc())))

    def events(self, session: Session, ticket_id: int) -> list[TicketEvent]:
        return list(session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        ))

    def notes(self, session: Session, ticket_id: int) -> list[TicketNote]:
        return list(session.scalars(
            select(TicketNote).where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)
        ))
