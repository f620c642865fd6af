"""A period that is still running is judged as of now, not as of its end: a ticket whose
due time is still ahead is pending, not breached (issue 18: the dashboard's default period
ends tomorrow 00:00, so a 90 s old ticket due in 5 minutes counted as breached).

Boundaries for both SLAs and every KPI that reads a due time: just before the due time,
exactly at it, just after it; and a response / resolution exactly at the due time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from staff.analytics import (
    Period,
    first_human_response_time,
    first_response_sla_compliance,
    queue_wait,
    resolution_sla_compliance,
)
from staff.analytics.drilldown import drilldown_conversations
from staff.analytics.scope import NO_FILTERS
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0

US = timedelta(microseconds=1)
NOW = T0 + timedelta(days=3, hours=10)
RUNNING = Period(T0, T0 + timedelta(days=7), now=NOW)  # the week, looked at on its Thursday


def _parts(session: Session, kpi: str, period: Period) -> dict[str, set[str]]:
    return {part: set(session.scalars(drilldown_conversations(kpi, part, period, NO_FILTERS)))
            for part in ("numerator", "population", "pending")}


def test_as_of_is_the_end_of_a_past_period_and_now_in_a_running_one() -> None:
    assert RUNNING.as_of == NOW
    past = Period(T0, T0 + timedelta(days=1), now=NOW)
    assert past.as_of == past.end
    assert RUNNING.part(T0, T0 + timedelta(days=1)).now == NOW


@pytest.mark.parametrize(
    ("due_offset", "expected"),
    [(US, "pending"), (timedelta(0), "pending"), (-US, "breached")],
    ids=["just-before-due", "exactly-at-due", "just-after-due"],
)
def test_first_response_sla_of_an_unanswered_ticket_around_its_due_time(
    session: Session, rows: RowBuilder, due_offset: timedelta, expected: str
) -> None:
    created = NOW - timedelta(seconds=90)
    cid = rows.conversation(created)
    rows.ticket(cid, created, first_response_due=NOW + due_offset)

    sla = first_response_sla_compliance(session, RUNNING)
    response = first_human_response_time(session, RUNNING)
    parts = _parts(session, "first_response_sla_compliance", RUNNING)
    if expected == "pending":
        assert (sla.numerator, sla.denominator, sla.pending) == (0, 0, 1)
        assert sla.value is None and sla.pending_conversation_ids == (cid,)
        assert parts == {"numerator": set(), "population": set(), "pending": {cid}}
    else:
        assert (sla.numerator, sla.denominator, sla.pending) == (0, 1, 0)
        assert sla.value == 0.0 and sla.population_ids == (cid,)
        assert parts == {"numerator": set(), "population": {cid}, "pending": set()}
    # The "First human response" card beside it: not answered yet = pending either way.
    assert response.pending_conversation_ids == (cid,) and response.count == 0


@pytest.mark.parametrize(
    ("due_offset", "expected"),
    [(US, "pending"), (timedelta(0), "pending"), (-US, "breached")],
    ids=["just-before-due", "exactly-at-due", "just-after-due"],
)
def test_resolution_sla_of_an_open_ticket_around_its_due_time(
    session: Session, rows: RowBuilder, due_offset: timedelta, expected: str
) -> None:
    created = NOW - timedelta(hours=8)
    cid = rows.conversation(created)
    rows.ticket(cid, created, first_response_at=created + timedelta(minutes=1), resolution_due=NOW + due_offset)

    sla = resolution_sla_compliance(session, RUNNING)
    parts = _parts(session, "resolution_sla_compliance", RUNNING)
    if expected == "pending":
        assert (sla.numerator, sla.denominator, sla.pending) == (0, 0, 1)
        assert parts["pending"] == {cid} and parts["population"] == set()
    else:
        assert (sla.numerator, sla.denominator, sla.pending) == (0, 1, 0)
        assert parts["pending"] == set() and parts["population"] == {cid}


@pytest.mark.parametrize(("answered_offset", "met"), [(timedelta(0), True), (US, False)],
                         ids=["answered-at-due", "answered-just-after-due"])
def test_a_response_and_a_resolution_exactly_at_the_due_time_meet_it(
    session: Session, rows: RowBuilder, answered_offset: timedelta, met: bool
) -> None:
    created = NOW - timedelta(hours=2)
    due = NOW - timedelta(minutes=10)
    cid = rows.conversation(created)
    rows.ticket(cid, created, first_response_due=due, first_response_at=due + answered_offset,
                resolution_due=due, resolved_at=due + answered_offset, status="resolved")

    for kpi, value in (("first_response_sla_compliance", first_response_sla_compliance(session, RUNNING)),
                       ("resolution_sla_compliance", resolution_sla_compliance(session, RUNNING))):
        assert (value.numerator, value.denominator, value.pending) == (1 if met else 0, 1, 0), kpi
        assert _parts(session, kpi, RUNNING)["numerator"] == ({cid} if met else set()), kpi


def test_a_past_period_keeps_judging_at_its_end(session: Session, rows: RowBuilder) -> None:
    """Looking back at Monday from Thursday: a ticket due Monday 23:59 and never answered
    was breached by Tuesday whatever the clock says; one due after Monday's end is pending."""
    monday = Period(T0, T0 + timedelta(days=1), now=NOW)
    late = rows.conversation(T0 + timedelta(hours=10))
    rows.ticket(late, T0 + timedelta(hours=10), first_response_due=monday.end - US)
    after_end = rows.conversation(T0 + timedelta(hours=23, minutes=58))
    rows.ticket(after_end, T0 + timedelta(hours=23, minutes=58), first_response_due=monday.end + timedelta(minutes=3))
    sla = first_response_sla_compliance(session, monday)
    assert sla.population_ids == (late,) and sla.pending_conversation_ids == (after_end,)


def test_queue_wait_has_no_due_time_and_counts_a_waiting_ticket_as_pending(session: Session, rows: RowBuilder) -> None:
    created = NOW - timedelta(seconds=90)
    cid = rows.conversation(created)
    rows.ticket(cid, created)
    wait = queue_wait(session, RUNNING)
    assert wait.pending_conversation_ids == (cid,) and wait.count == 0
