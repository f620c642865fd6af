"""Who holds a ticket: claiming (exactly one of concurrent claims wins), claiming the
head of the queue, and transferring a live conversation to a colleague.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.base import Actor, CLAIM_NEXT_ATTEMPTS, HandoffCore, _flush, _not_claimable
from handoff.errors import AgentUnavailable, AlreadyClaimed, TicketNotFound
from handoff.lifecycle import QUEUED_STATUSES, TicketStatus
from handoff.models import Ticket
from handoff.ownership import AgentClaims, Transfer
from handoff.presence import upsert_presence
from handoff.queue import CLAIM_EVENT, queue_query


logger = logging.getLogger(__name__)


class Claims(HandoffCore):
    """Claiming tickets and transferring them between agents (part of ``handoff.Handoff``)."""

    def claim(self, session: Session, ticket_id: int, agent_id: int) -> Ticket:
        """Give a queued ticket to an agent; of concurrent claims exactly one wins.

        ``TicketNotFound`` (404) for an unknown ticket, ``AlreadyClaimed`` (409) when
        another agent was first or the ticket left the queue.
        """
        now = self.now()
        seen = session.execute(
            select(Ticket.status, Ticket.assignee_id).where(Ticket.id == ticket_id)
        ).first()
        if seen is None:
            raise TicketNotFound(f"no ticket with id {ticket_id}")
        if seen.assignee_id is not None or seen.status not in QUEUED_STATUSES:
            raise AlreadyClaimed(_not_claimable(ticket_id, seen.status, seen.assignee_id, agent_id))
        # The race is decided here: the database applies one of concurrent UPDATEs
        # first; the others then find assignee_id set (or the status moved) and match
        # no row. On PostgreSQL they wait on the row lock and re-check after it.
        result = session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                Ticket.assignee_id.is_(None),
                Ticket.status == seen.status,
            )
            .values(
                assignee_id=agent_id,
                status=TicketStatus.ASSIGNED,
                claimed_at=now,
                updated_at=now,
                version=Ticket.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            current = session.execute(
                select(Ticket.status, Ticket.assignee_id).where(Ticket.id == ticket_id)
            ).one()
            raise AlreadyClaimed(
                _not_claimable(ticket_id, current.status, current.assignee_id, agent_id)
            )
        ticket = self._ticket(session, ticket_id, refresh=True)
        waited = (now - ticket.queued_at).total_seconds() if ticket.queued_at else None
        self._event(session, ticket, Actor.agent(agent_id), CLAIM_EVENT, now,
                    from_status=seen.status, to_status=TicketStatus.ASSIGNED,
                    data={"waited_seconds": waited})
        self._transition(session, ticket.conversation_id, ticket.channel,
                         AgentClaims(agent_id), now)
        upsert_presence(session, agent_id, now, status=None)
        _flush(session)
        logger.info("agent %s claimed %s", agent_id, ticket.number)
        return ticket

    def claim_next(self, session: Session, agent_id: int) -> Ticket | None:
        """Claim the ticket at the head of the queue; None when the queue is empty.

        On PostgreSQL the head is picked ``FOR UPDATE SKIP LOCKED``, so agents picking
        at the same moment get different tickets instead of queueing on one row lock.
        """
        tried: list[int] = []
        for _ in range(CLAIM_NEXT_ATTEMPTS):
            query = queue_query().with_only_columns(Ticket.id).limit(1)
            if tried:
                query = query.where(Ticket.id.not_in(tried))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=Ticket)
            ticket_id = session.scalar(query)
            if ticket_id is None:
                return None
            try:
                return self.claim(session, ticket_id, agent_id)
            except AlreadyClaimed:
                tried.append(ticket_id)
        return None

    def transfer(
        self, session: Session, ticket_id: int, from_agent: int, to_agent: int,
        note: str | None = None,
    ) -> Ticket:
        """Hand a live conversation to another online agent; status and SLA unchanged."""
        ticket, now = self._owned_ticket(session, ticket_id, from_agent)
        if to_agent not in self.agents_online(session, now):
            raise AgentUnavailable(f"agent {to_agent} is not online")
        self._transition(session, ticket.conversation_id, ticket.channel,
                         Transfer(from_agent, to_agent), now)
        ticket.previous_assignee_id = from_agent
        ticket.assignee_id = to_agent
        ticket.updated_at = now
        self._event(session, ticket, Actor.agent(from_agent), "transferred", now,
                    from_status=ticket.status, to_status=ticket.status, note=note,
                    data={"from_agent": from_agent, "to_agent": to_agent})
        _flush(session)
        logger.info("%s transferred from agent %s to %s", ticket.number, from_agent, to_agent)
        return ticket
