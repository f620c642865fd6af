"""Which questions are gaps: fallback, suggestions, thumbs-down; answered ones are not."""

from __future__ import annotations

from datetime import timedelta

from staff.gaps.selection import (
    FALLBACK,
    NLU_FALLBACK,
    SUGGEST,
    THUMBS_DOWN,
    fingerprint,
    select_gap_questions,
)
from bot.transcript.models import utcnow
from tests.staff.gaps.conftest import Seeder


def test_gap_questions_and_their_reasons(seeded_sessions) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with seeded_sessions.begin() as session:
        seed = Seeder(session)
        fallback = seed.turn("do you sell garden gnomes", rule="fallback")
        unknown = seed.turn("what about gnomes", rule="unknown_selection")
        suggested = seed.turn("refund timing?", rule="suggest")
        down = seed.turn("how do I cancel", rule="answer", faq_id="orders.cancel", feedback="down")
        seed.turn("how do I cancel my order", rule="answer", faq_id="orders.cancel")
        seed.turn("how do I cancel it", rule="answer", faq_id="orders.cancel", feedback="up")
        not_understood = seed.turn("blorp zzz", rule=None, intent="nlu_fallback")
        seed.turn("where is my parcel", rule="answer", faq_id="delivery.track", intent="nlu_fallback")
        seed.turn("hello", rule=None, intent="greet")
        seed.turn('/faq_select{"faq_id": "orders.cancel"}', rule="unknown_selection", intent="faq_select")
        seed.turn("old question", rule="fallback", at=now - timedelta(days=40))
        telegram = seed.turn("telegram gnomes", rule="fallback", channel="telegram")
        pii = seed.turn("mail me at jane.doe@example.com or call +44 20 7946 0958 about card 4111 1111 1111 1111",
                        rule="fallback")

    with seeded_sessions() as session:
        gaps = select_gap_questions(session, now - timedelta(days=30), now)
        by_id = {q.message_id: q for q in gaps}
        assert set(by_id) == {fallback, unknown, suggested, down, not_understood, telegram, pii}
        assert by_id[fallback].reason == FALLBACK and by_id[unknown].reason == FALLBACK
        assert by_id[suggested].reason == SUGGEST
        assert by_id[down].reason == THUMBS_DOWN and by_id[down].faq_id == "orders.cancel"
        assert by_id[not_understood].reason == NLU_FALLBACK
        assert by_id[telegram].channel == "telegram"
        # Newest first.
        assert [q.message_id for q in gaps] == sorted(by_id, reverse=True)
        # Redacted before anything else sees it.
        text = by_id[pii].text
        assert "jane.doe" not in text and "7946" not in text and "4111" not in text
        assert "[email]" in text and "[phone]" in text and "[card]" in text

        web_only = select_gap_questions(session, now - timedelta(days=30), now, channel="telegram")
        assert [q.message_id for q in web_only] == [telegram]

        without_suggest = select_gap_questions(session, now - timedelta(days=30), now, include_suggest=False)
        assert suggested not in {q.message_id for q in without_suggest}
        assert fingerprint(without_suggest) != fingerprint(gaps)

        old = select_gap_questions(session, now - timedelta(days=60), now - timedelta(days=30))
        assert [q.text for q in old] == ["old question"]
