"""FAQ answer rate, fallback rate and helpfulness over the bot's messages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from staff.analytics import Filters, fallback_rate, faq_answer_rate, faq_helpfulness
from tests.staff.analytics.builders import RowBuilder
from tests.staff.analytics.conftest import T0, WEEK

AT = T0 + timedelta(days=2)


def seed_answers(rows: RowBuilder) -> dict[str, str]:
    c = {
        "rated": rows.conversation(AT),
        "fallbacks": rows.conversation(AT, channel="telegram"),
        "late_rating": rows.conversation(AT),
        "earlier": rows.conversation(T0 - timedelta(days=1)),
    }
    rows.message(c["rated"], AT, rule="answer", feedback="up")
    rows.message(c["rated"], AT, rule="answer", feedback="down")
    rows.message(c["rated"], AT, rule="suggest")
    rows.message(c["rated"], AT, rule="selected", feedback="up")
    rows.message(c["rated"], AT)  # greeting: no FAQ decision
    rows.message(c["rated"], AT, direction="in", author="customer", feedback="up")  # not a bot message
    for rule in ("fallback", "unknown_selection", "answer"):
        rows.message(c["fallbacks"], AT, channel="telegram", rule=rule)
    rows.message(c["late_rating"], AT, rule="answer", feedback="up", feedback_at=WEEK.end + timedelta(minutes=1))
    rows.message(c["earlier"], T0 - timedelta(days=1), rule="answer", feedback="up")
    return c


def test_faq_answer_and_fallback_rates_count_decisions(session: Session, rows: RowBuilder) -> None:
    c = seed_answers(rows)
    answered = faq_answer_rate(session, WEEK)
    assert (answered.numerator, answered.denominator) == (5, 8)
    assert answered.conversation_ids == tuple(sorted([c["rated"], c["fallbacks"], c["late_rating"]]))
    fallback = fallback_rate(session, WEEK)
    assert (fallback.numerator, fallback.denominator) == (2, 8)
    assert fallback.conversation_ids == (c["fallbacks"],)
    assert c["earlier"] not in fallback.population_ids


def test_helpfulness_counts_ratings_given_before_period_end(session: Session, rows: RowBuilder) -> None:
    c = seed_answers(rows)
    helpful = faq_helpfulness(session, WEEK)
    assert (helpful.numerator, helpful.denominator) == (2, 3)
    assert helpful.population_ids == (c["rated"],)


def test_channel_filter_applies_to_messages(session: Session, rows: RowBuilder) -> None:
    seed_answers(rows)
    telegram = fallback_rate(session, WEEK, Filters(channel="telegram"))
    assert (telegram.numerator, telegram.denominator) == (2, 3)
    assert faq_helpfulness(session, WEEK, Filters(channel="telegram")).value is None


def test_no_messages_gives_none(session: Session) -> None:
    assert faq_answer_rate(session, WEEK).value is None
    assert fallback_rate(session, WEEK).value is None
    assert faq_helpfulness(session, WEEK).value is None
