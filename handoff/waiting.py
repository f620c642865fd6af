"""The queue as customers and agents see it: the ordered queue, a ticket's place and
expected wait, and whether anyone can answer now.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from handoff.base import HandoffCore
from handoff.errors import IllegalTransition
from handoff.queue import QueueEntry, expected_wait, list_queue, position_in_queue
from handoff.views import Availability, WaitingInfo


class Waiting(HandoffCore):
    """The queue, a waiting ticket's place and wait, and availability (part of ``handoff.Handoff``)."""

    def queue(self, session: Session) -> list[QueueEntry]:
        """Open, unassigned tickets: priority first, then first-response due time."""
        return list_queue(session, self.policy, self.now())

    def queue_position(self, session: Session, ticket_id: int) -> tuple[int, timedelta | None]:
        """(1-based place, expected wait); the wait is None when no agent is online.

        ``IllegalTransition`` if the ticket is not waiting in the queue.
        """
        ticket = self._ticket(session, ticket_id)
        position = position_in_queue(session, ticket_id)
        if position is None:
            raise IllegalTransition(f"ticket {ticket.number} is {ticket.status}, not in the queue")
        now = self.now()
        online = len(self.agents_online(session, now))
        return position, expected_wait(session, self.policy, now, position, online)

    def waiting_info(self, session: Session, ticket_id: int) -> WaitingInfo:
        """Everything the customer should be told while the ticket waits."""
        ticket = self._ticket(session, ticket_id)
        now = self.now()
        online = len(self.agents_online(session, now))
        position = position_in_queue(session, ticket_id)
        wait = None if position is None else expected_wait(
            session, self.policy, now, position, online
        )
        hours = self.policy.opening_hours
        return WaitingInfo(
            ticket_id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            position=position,
            expected_wait=wait,
            agents_online=online,
            open_now=hours.is_open(now),
            next_opening=hours.next_opening(now),
            first_response_due=ticket.first_response_due,
        )

    def availability(self, session: Session) -> Availability:
        now = self.now()
        hours = self.policy.opening_hours
        return Availability(
            open_now=hours.is_open(now),
            agents_online=len(self.agents_online(session, now)),
            next_opening=hours.next_opening(now),
        )
