"""Containment, escalation (overall, by reason), first-contact resolution."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from staff.analytics import (
    Filters,
    by_agent,
    by_channel,
    containment,
    escalation_rate,
    escalation_rate_by_reason,
    first_contact_resolution,
)
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK

DAY = timedelta(days=1)


def seed_escalations(rows: RowBuilder) -> dict[str, str]:
    at = T0 + DAY
    c = {
        "contained_web": rows.conversation(at),
        "request_web": rows.conversation(at),
        "complaint_tg": rows.conversation(at, channel="telegram"),
        "ticket_after_end": rows.conversation(at),
        "contained_tg": rows.conversation(at, channel="telegram"),
        # Not counted: nobody wrote; started before the period.
        "silent": rows.conversation(at, customer_wrote=False),
        "earlier": rows.conversation(T0 - DAY),
    }
    rows.ticket(c["request_web"], at + timedelta(minutes=3), assignee_id=7)
    rows.ticket(c["complaint_tg"], at, reason="complaint", category="delivery", channel="telegram")
    rows.ticket(c["ticket_after_end"], WEEK.end + timedelta(minutes=1))
    rows.message(c["silent"], at, direction="in", author="system")  # not the customer
    rows.ticket(c["silent"], at)
    rows.ticket(c["earlier"], at)
    return c


def test_containment_and_escalation_count_conversations_as_of_period_end(session: Session, rows: RowBuilder) -> None:
    c = seed_escalations(rows)
    contained = containment(session, WEEK)
    assert (contained.numerator, contained.denominator) == (3, 5)
    assert contained.value == 0.6
    assert contained.conversation_ids == tuple(sorted([c["contained_web"], c["ticket_after_end"], c["contained_tg"]]))
    escalated = escalation_rate(session, WEEK)
    assert escalated.value == 0.4
    assert escalated.conversation_ids == tuple(sorted([c["request_web"], c["complaint_tg"]]))
    assert escalated.population_ids == contained.population_ids
    assert c["silent"] not in escalated.population_ids and c["earlier"] not in escalated.population_ids


def test_filters_narrow_the_conversations(session: Session, rows: RowBuilder) -> None:
    c = seed_escalations(rows)
    telegram = containment(session, WEEK, Filters(channel="telegram"))
    assert (telegram.numerator, telegram.denominator) == (1, 2)
    delivery = escalation_rate(session, WEEK, Filters(category="delivery"))
    assert (delivery.numerator, delivery.denominator, delivery.conversation_ids) == (1, 1, (c["complaint_tg"],))
    agent = escalation_rate(session, WEEK, Filters(agent_id=7))
    assert agent.conversation_ids == (c["request_web"],)


def test_escalation_by_reason_lists_every_reason(session: Session, rows: RowBuilder) -> None:
    c = seed_escalations(rows)
    by_reason = escalation_rate_by_reason(session, WEEK)
    assert by_reason["customer_request"].value == 0.2
    assert by_reason["customer_request"].conversation_ids == (c["request_web"],)
    assert by_reason["complaint"].value == 0.2
    assert by_reason["bot_error"].numerator == 0 and by_reason["bot_error"].denominator == 5
    assert set(by_reason) == {
        "customer_request", "complaint", "repeated_fallback", "negative_feedback", "negative_sentiment", "bot_error",
    }


def test_breakdown_by_channel_runs_the_kpi_per_channel(session: Session, rows: RowBuilder) -> None:
    seed_escalations(rows)
    per_channel = by_channel(session, WEEK, containment)
    assert {channel: (r.numerator, r.denominator) for channel, r in per_channel.items()} == {
        "telegram": (1, 2), "web": (2, 3),
    }


def test_no_conversations_gives_none_not_a_division_error(session: Session) -> None:
    assert containment(session, WEEK).value is None
    assert escalation_rate(session, WEEK).value is None
    assert all(rate.value is None for rate in escalation_rate_by_reason(session, WEEK).values())
    assert first_contact_resolution(session, WEEK).value is None
    assert by_channel(session, WEEK, containment) == {}


def test_first_contact_resolution_excludes_reopened_repeat_and_multi_ticket(session: Session, rows: RowBuilder) -> None:
    at = T0 + DAY
    resolved = at + timedelta(hours=1)
    first_contact = rows.conversation(at)
    rows.ticket(first_contact, at, resolved_at=resolved, status="resolved", assignee_id=1)
    reopened = rows.conversation(at)
    rows.ticket(
        reopened, at, resolved_at=resolved, reopen_count=1, repeat_contact=True, status="resolved", assignee_id=2
    )
    two_tickets = rows.conversation(at)
    rows.ticket(two_tickets, at, resolved_at=resolved, status="closed", assignee_id=1)
    second = at + timedelta(hours=2)
    rows.ticket(two_tickets, second, resolved_at=second + timedelta(hours=1), status="resolved", assignee_id=1)
    # Reopening normally also marks a repeat contact; this row checks reopen_count alone.
    reopened_only = rows.conversation(at)
    rows.ticket(reopened_only, at, resolved_at=resolved, reopen_count=1, status="resolved", assignee_id=2)
    repeat = rows.conversation(at)
    rows.ticket(repeat, at, resolved_at=resolved, repeat_contact=True, status="resolved", assignee_id=1)
    still_open = rows.conversation(at)
    rows.ticket(still_open, at, status="in_progress", assignee_id=1)
    resolved_after_end = rows.conversation(at)
    rows.ticket(resolved_after_end, at, resolved_at=WEEK.end + timedelta(hours=1), status="resolved", assignee_id=1)
    rows.conversation(at)  # contained: not a human contact, not in FCR

    fcr = first_contact_resolution(session, WEEK)
    assert (fcr.numerator, fcr.denominator) == (1, 5)
    assert fcr.conversation_ids == (first_contact,)
    assert fcr.population_ids == tuple(sorted([first_contact, reopened, reopened_only, two_tickets, repeat]))

    per_agent = by_agent(session, WEEK, first_contact_resolution)
    assert {agent: (r.numerator, r.denominator) for agent, r in per_agent.items()} == {1: (1, 3), 2: (0, 2)}
