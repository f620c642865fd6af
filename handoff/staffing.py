"""Agent presence and what happens to a missing agent's conversations: presence,
heartbeats, marking everyone offline at start, and releasing disconnected or
stale agents' tickets back to the queue.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.base import HandoffCore, SYSTEM, _flush
from handoff.clock import require_aware
from handoff.lifecycle import ASSIGNED_STATUSES, TicketStatus
from handoff.models import AgentPresence, Ticket
from handoff.ownership import AgentGraceExpired
from handoff.presence import (
    PresenceStatus,
    mark_all_offline,
    offline_since,
    parse_presence,
    upsert_presence,
)


logger = logging.getLogger(__name__)


class Staffing(HandoffCore):
    """Agent presence and releasing a missing agent's conversations (part of ``handoff.Handoff``)."""

    def set_presence(
        self, session: Session, agent_id: int, status: str | PresenceStatus
    ) -> AgentPresence:
        """Online / away / offline. Going offline starts the disconnect grace period."""
        row = upsert_presence(session, agent_id, self.now(), parse_presence(status))
        _flush(session)
        return row

    def heartbeat(self, session: Session, agent_id: int) -> None:
        """A sign of life (only matters when ``policy.presence_timeout`` is set)."""
        upsert_presence(session, agent_id, self.now(), status=None)
        _flush(session)

    def mark_all_offline(self, session: Session) -> int:
        """Call when the gateway starts: consoles reconnect within the grace period or
        their conversations go back to the queue (release_stale)."""
        return mark_all_offline(session, self.now())

    def release_disconnected(
        self, session: Session, agent_id: int, *, force: bool = False
    ) -> list[Ticket]:
        """Return the agent's conversations to the queue once their grace has run out
        (nothing happens while they are online or away, or still within the grace).
        ``force`` releases at once (a supervisor's decision)."""
        return self._release_agent(session, agent_id, self.now(), force)

    def release_stale(self, session: Session, now: datetime | None = None) -> list[Ticket]:
        """Release every agent whose disconnect grace has run out (call periodically)."""
        moment = require_aware(now) if now is not None else self.now()
        holders = session.scalars(
            select(Ticket.assignee_id)
            .where(Ticket.status.in_(list(ASSIGNED_STATUSES)), Ticket.assignee_id.is_not(None))
            .distinct()
        ).all()
        released: list[Ticket] = []
        for agent_id in sorted(a for a in holders if a is not None):
            released.extend(self._release_agent(session, agent_id, moment, force=False))
        return released

    def _release_agent(
        self, session: Session, agent_id: int, now: datetime, force: bool
    ) -> list[Ticket]:
        if not force:
            gone_since = offline_since(
                session.get(AgentPresence, agent_id), now, self.policy.presence_timeout
            )
            if gone_since is None or now - gone_since < self.policy.agent_grace:
                return []
        tickets = session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status.in_(list(ASSIGNED_STATUSES)))
            .order_by(Ticket.id)
        ).all()
        for ticket in tickets:
            self._release(session, ticket, agent_id, now, forced=force)
        _flush(session)
        if tickets:
            logger.info("released %d conversation(s) of agent %s", len(tickets), agent_id)
        return list(tickets)

    def _release(
        self, session: Session, ticket: Ticket, agent_id: int, now: datetime, forced: bool
    ) -> None:
        self._transition(session, ticket.conversation_id, ticket.channel,
                         AgentGraceExpired(agent_id), now)
        self._move(session, ticket, TicketStatus.CLASSIFIED, SYSTEM, "released", now,
                   note="released by a supervisor" if forced else "agent disconnected",
                   data={"agent_id": agent_id})
        ticket.previous_assignee_id = agent_id
        ticket.assignee_id = None
        ticket.queued_at = now
        ticket.claimed_at = None
