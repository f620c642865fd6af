"""CSAT over passed-in ratings, complaint rate by category and the spike detector."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from staff.analytics import (
    Filters,
    Period,
    SpikeRule,
    complaint_rate_by_category,
    csat,
    detect_complaint_spikes,
)
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK

AT = T0 + timedelta(days=3)


def test_csat_average_response_rate_and_would_recommend(session: Session, rows: RowBuilder) -> None:
    rated_twice = rows.conversation(AT)
    recommends = rows.conversation(AT, channel="telegram")
    asked_only = rows.conversation(AT)
    never_asked = rows.conversation(AT)
    outside = rows.conversation(T0 - timedelta(days=1))
    rows.survey(rated_twice, AT, 5)
    rows.survey(rated_twice, AT + timedelta(hours=1), 3, would_recommend=False)  # the latest rating counts
    rows.survey(recommends, AT, 4, would_recommend=True, channel="telegram")
    rows.survey(asked_only, AT)
    rows.survey(outside, T0 - timedelta(days=1), 1)
    summary = csat(session, WEEK)
    assert summary.average == 3.5
    assert summary.rated == 2 and summary.conversation_ids == tuple(sorted([rated_twice, recommends]))
    # Response rate = rated / asked: the conversation never asked is not in it.
    assert (summary.response_rate.numerator, summary.response_rate.denominator) == (2, 3)
    assert asked_only in summary.response_rate.population_ids
    assert never_asked not in summary.response_rate.population_ids
    assert (summary.would_recommend.numerator, summary.would_recommend.denominator) == (1, 2)
    assert csat(session, WEEK, Filters(channel="telegram")).average == 4.0


def test_csat_is_judged_as_of_period_end(session: Session, rows: RowBuilder) -> None:
    late_rating = rows.conversation(AT)
    asked_after_end = rows.conversation(AT)
    rows.survey(late_rating, WEEK.end - timedelta(minutes=1), 2, rated_at=WEEK.end)
    rows.survey(asked_after_end, WEEK.end, 5)
    summary = csat(session, WEEK)
    assert summary.average is None
    assert (summary.response_rate.numerator, summary.response_rate.denominator) == (0, 1)
    assert summary.response_rate.population_ids == (late_rating,)


def test_csat_without_surveys_or_conversations_is_none(session: Session, rows: RowBuilder) -> None:
    assert csat(session, WEEK).average is None
    rows.conversation(AT)
    summary = csat(session, WEEK)
    assert summary.average is None and summary.response_rate.value is None and summary.would_recommend.value is None


def add_day(rows: RowBuilder, day_start: datetime, conversations: int, complaints: dict[str, int]) -> None:
    """``conversations`` conversations on that day, the first ones complaining as given."""
    reasons = [category for category, count in complaints.items() for _ in range(count)]
    assert len(reasons) <= conversations
    for index in range(conversations):
        at = day_start + timedelta(hours=1, minutes=index)
        cid = rows.conversation(at)
        if index < len(reasons):
            rows.ticket(cid, at, reason="complaint", category=reasons[index])


def seed_spike(rows: RowBuilder) -> datetime:
    end = T0 + timedelta(days=4)
    # Baseline, three days of 10 conversations: delivery 1/30, orders 6/30, payment 0.
    add_day(rows, T0 + timedelta(days=0), 10, {"delivery": 1, "orders": 2})
    add_day(rows, T0 + timedelta(days=1), 10, {"orders": 2})
    add_day(rows, T0 + timedelta(days=2), 10, {"orders": 2})
    # Latest day, 11 conversations: delivery 3/11 (8x baseline), orders 3/11 (1.4x), payment 2/11.
    add_day(rows, T0 + timedelta(days=3), 10, {"delivery": 3, "orders": 3, "payment": 2})
    # Escalated for another reason: not a complaint.
    asked = rows.conversation(T0 + timedelta(days=3, hours=5))
    rows.ticket(asked, T0 + timedelta(days=3, hours=5), reason="customer_request", category="payment")
    return end


def test_complaint_rate_by_category(session: Session, rows: RowBuilder) -> None:
    seed_spike(rows)
    latest = complaint_rate_by_category(session, Period(T0 + timedelta(days=3), T0 + timedelta(days=4)))
    assert {category: (r.numerator, r.denominator) for category, r in latest.items()} == {
        "delivery": (3, 11), "orders": (3, 11), "payment": (2, 11),
    }
    assert len(latest["delivery"].conversation_ids) == 3


def test_spike_detector_flags_a_jump_against_the_trailing_baseline(session: Session, rows: RowBuilder) -> None:
    end = seed_spike(rows)
    spikes = detect_complaint_spikes(session, end, SpikeRule(window=timedelta(days=1), baseline_windows=3))
    assert [spike.category for spike in spikes] == ["delivery"]
    assert spikes[0].baseline_rate == pytest.approx(1 / 30)
    assert spikes[0].latest.value == pytest.approx(3 / 11)
    # With a lower floor the new payment complaints (baseline 0) are flagged as well.
    lower_floor = SpikeRule(window=timedelta(days=1), baseline_windows=3, min_complaints=2)
    assert [s.category for s in detect_complaint_spikes(session, end, lower_floor)] == ["delivery", "payment"]
    # A looser factor flags orders (1.36x its baseline) too.
    loose = SpikeRule(window=timedelta(days=1), baseline_windows=3, factor=1.3)
    assert sorted(s.category for s in detect_complaint_spikes(session, end, loose)) == ["delivery", "orders"]


def test_spike_detector_with_no_traffic_flags_nothing(session: Session) -> None:
    assert detect_complaint_spikes(session, T0) == []
