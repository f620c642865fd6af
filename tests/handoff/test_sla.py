"""SLA clock with a controllable clock: ok -> at risk -> breached, in business time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from handoff import Handoff, HandoffPolicy, ManualClock, SlaLevel
from handoff.hours import OpeningHours
from tests.handoff.conftest import new_conversation

BERLIN_WEEKDAYS = {"timezone": "Europe/Berlin", "mon-fri": "09:00-17:00"}
# Saturday 21 November 2026, 12:00 UTC (13:00 in Berlin): closed.
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
# Monday 23 November 2026, 09:00 Berlin = 08:00 UTC.
MONDAY_OPENING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def test_first_response_goes_at_risk_then_breached(
    session: Session, handoff: Handoff, clock: ManualClock
) -> None:
    ticket = handoff.escalate(session, new_conversation(), "web", "customer_request",
                              category="payment")
    session.commit()
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.OK
    clock.advance(minutes=3, seconds=59)  # 79.7 % of 5 minutes
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.OK
    clock.advance(seconds=1)  # 80 %
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.AT_RISK
    clock.advance(minutes=1)  # exactly due: still at risk
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.AT_RISK
    clock.advance(seconds=1)
    state = handoff.sla_state(ticket)
    assert state.first_response.level is SlaLevel.BREACHED and state.worst is SlaLevel.BREACHED
    assert state.resolution.level is SlaLevel.OK  # payment: 8 hours
    clock.advance(hours=7)  # 7h 5m of 8h: 88 %
    assert handoff.sla_state(ticket).resolution.level is SlaLevel.AT_RISK
    clock.advance(hours=1)
    assert handoff.sla_state(ticket).resolution.level is SlaLevel.BREACHED


def test_a_met_target_stays_ok_or_breached(
    session: Session, handoff: Handoff, clock: ManualClock
) -> None:
    on_time = handoff.escalate(session, new_conversation(), "web", "customer_request")
    late = handoff.escalate(session, new_conversation(), "web", "customer_request")
    handoff.claim(session, on_time.id, 1)
    handoff.claim(session, late.id, 2)
    clock.advance(minutes=4)
    handoff.record_agent_reply(session, on_time.conversation_id, 1)
    clock.advance(minutes=2)
    handoff.record_agent_reply(session, late.conversation_id, 2)
    session.commit()
    clock.advance(hours=1)
    assert handoff.sla_state(on_time).first_response.level is SlaLevel.OK
    assert handoff.sla_state(late).first_response.level is SlaLevel.BREACHED


def test_queue_flags_breached_tickets(
    session: Session, handoff: Handoff, clock: ManualClock
) -> None:
    handoff.escalate(session, new_conversation(), "web", "customer_request")
    session.commit()
    assert [e.sla for e in handoff.queue(session)] == [SlaLevel.OK]
    clock.advance(minutes=6)
    assert [e.sla for e in handoff.queue(session)] == [SlaLevel.BREACHED]


def test_after_hours_ticket_is_due_after_opening(session: Session) -> None:
    clock = ManualClock(SATURDAY_NOON)
    policy = HandoffPolicy.from_dict({"opening_hours": BERLIN_WEEKDAYS})
    handoff = Handoff(policy, clock)
    ticket = handoff.escalate(session, new_conversation(), "web", "complaint",
                              category="payment")
    session.commit()
    assert ticket.first_response_due == MONDAY_OPENING + timedelta(minutes=5)
    # 8 business hours of payment SLA: all of Monday 09:00-17:00 Berlin.
    assert ticket.resolution_due == MONDAY_OPENING + timedelta(hours=8)
    assert [e.kind for e in handoff.events(session, ticket.id)][-1] == "after_hours"
    info = handoff.waiting_info(session, ticket.id)
    assert not info.open_now and info.next_opening == MONDAY_OPENING
    assert info.position == 1 and info.expected_wait is None  # nobody online

    clock.set(MONDAY_OPENING - timedelta(minutes=1))  # the whole weekend: still ok
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.OK
    clock.set(MONDAY_OPENING + timedelta(minutes=4))
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.AT_RISK
    clock.set(MONDAY_OPENING + timedelta(minutes=6))
    assert handoff.sla_state(ticket).first_response.level is SlaLevel.BREACHED


def test_sla_runs_over_the_night_in_business_time(session: Session) -> None:
    # Friday 16:58 Berlin (15:58 UTC): 2 minutes left today, 3 more on Monday.
    clock = ManualClock(datetime(2026, 11, 20, 15, 58, tzinfo=timezone.utc))
    handoff = Handoff(HandoffPolicy.from_dict({"opening_hours": BERLIN_WEEKDAYS}), clock)
    ticket = handoff.escalate(session, new_conversation(), "web", "customer_request")
    session.commit()
    assert ticket.first_response_due == MONDAY_OPENING + timedelta(minutes=3)


class TestOpeningHours:
    hours = OpeningHours.from_dict(
        {"timezone": "Europe/Berlin", "mon-fri": ["09:00-12:00", "13:00-17:00"],
         "sat": "10:00-24:00"}
    )

    @pytest.mark.parametrize(
        ("utc", "is_open"),
        [
            ("2026-11-23T08:00", True),  # Mon 09:00 Berlin: opening minute
            ("2026-11-23T07:59", False),
            ("2026-11-23T11:30", False),  # lunch
            ("2026-11-23T16:00", False),  # Mon 17:00 Berlin: closed at the end
            ("2026-11-28T22:59", True),  # Sat 23:59 Berlin
            ("2026-11-29T12:00", False),  # Sunday
            ("2026-07-06T07:00", True),  # summer time: 09:00 Berlin is 07:00 UTC
        ],
    )
    def test_is_open(self, utc: str, is_open: bool) -> None:
        moment = datetime.fromisoformat(utc).replace(tzinfo=timezone.utc)
        assert self.hours.is_open(moment) is is_open

    def test_next_opening_and_business_time(self) -> None:
        sunday = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
        assert self.hours.next_opening(sunday) == datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
        friday_morning = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
        monday_morning = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
        # Friday 7h + Saturday 14h.
        assert self.hours.business_time_between(friday_morning, monday_morning) == timedelta(
            hours=21
        )
        assert self.hours.add_business_time(friday_morning, timedelta(hours=4)) == datetime(
            2026, 11, 27, 13, 0, tzinfo=timezone.utc
        )  # 3 h before lunch, 1 h after

    def test_no_hours_means_always_open(self) -> None:
        always = OpeningHours()
        moment = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
        assert always.is_open(moment) and always.next_opening(moment) == moment
        assert always.add_business_time(moment, timedelta(hours=5)) == moment + timedelta(hours=5)

    @pytest.mark.parametrize(
        "bad",
        [
            {"timezone": "Mars/Olympus"},
            {"mon": "17:00-09:00"},
            {"mon": "9-17"},
            {"fri-mon": "09:00-17:00"},
            {"mon": ["09:00-13:00", "12:00-17:00"]},
            {"someday": "09:00-17:00"},
        ],
    )
    def test_bad_hours_are_rejected(self, bad: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            OpeningHours.from_dict(bad)
