"""Counts for a period: escalations by reason, tickets created, abandoned, reopened
and resolved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.base import HandoffCore
from handoff.clock import require_aware
from handoff.lifecycle import EscalationReason
from handoff.models import TicketEvent
from handoff.views import HandoffReport


class Reports(HandoffCore):
    """Counts of escalations and outcomes since a moment (part of ``handoff.Handoff``)."""

    def report(self, session: Session, since: datetime) -> HandoffReport:
        since = require_aware(since)
        escalations: dict[str, int] = {reason.value: 0 for reason in EscalationReason}
        counts: dict[str, int] = {}
        rows = session.execute(
            select(TicketEvent.kind, TicketEvent.data).where(
                TicketEvent.at >= since,
                TicketEvent.kind.in_(
                    ["received", "reopened", "escalated_again", "abandoned", "resolved",
                     "handed_back"]
                ),
            )
        ).all()
        for kind, data in rows:
            counts[kind] = counts.get(kind, 0) + 1
            reason = (data or {}).get("reason")
            if kind in ("received", "reopened", "escalated_again") and reason in escalations:
                escalations[reason] += 1
        return HandoffReport(
            since=since,
            escalations=escalations,
            tickets_created=counts.get("received", 0),
            abandoned=counts.get("abandoned", 0),
            reopened=counts.get("reopened", 0),
            resolved=counts.get("resolved", 0) + counts.get("handed_back", 0),
        )
