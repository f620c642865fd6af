"""Button presses in staff transcripts read as the title the customer pressed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.transcript.button_titles import display_texts, label_of_payload, parse_payload

HELPFUL = '/feedback{"helpful":"yes","faq_id":"returns_refunds.timing"}'
NOT_HELPFUL = '/feedback{"helpful":"no","faq_id":"returns_refunds.timing"}'
PICK = '/faq_select{"faq_id":"returns_refunds.timing"}'
NONE = '/faq_select{"faq_id":"(none)"}'


@dataclass
class Line:
    direction: str
    text: str
    buttons: list[dict[str, Any]] | None = None


def bot(text: str, *buttons: tuple[str, str]) -> Line:
    return Line("out", text, [{"title": t, "payload": p} for t, p in buttons] or None)


def customer(text: str) -> Line:
    return Line("in", text)


def test_a_press_reads_as_the_title_of_the_offered_button() -> None:
    lines = [
        customer("refund time"),
        bot("Did you mean one of these?", ("How long does a refund take?", PICK), ("None of these", NONE)),
        customer(PICK),
        bot("Within 5 working days.", ("👍 Helpful", HELPFUL), ("👎 Not helpful", NOT_HELPFUL)),
        customer(HELPFUL),
    ]
    assert display_texts(lines) == [None, None, "How long does a refund take?", None, "👍 Helpful"]


def test_the_newest_offer_of_a_payload_wins_and_older_offers_still_count() -> None:
    lines = [
        bot("a", ("Old wording", PICK)),
        bot("b", ("New wording", PICK)),
        bot("c (an agent line, no buttons)"),
        customer(PICK),
        customer(NONE),  # offered nowhere: read from the payload
    ]
    assert display_texts(lines)[3:] == ["New wording", "None of these"]


def test_a_press_before_any_offer_falls_back_to_a_label_from_the_payload() -> None:
    assert display_texts([customer(HELPFUL), customer(NOT_HELPFUL), customer(PICK)]) == [
        "Helpful", "Not helpful", "returns_refunds.timing"]
    assert display_texts([customer('/csat_rate{"survey":3,"rating":4}'), customer("/request_human")]) == [
        "4", "Talk to a person"]


def test_typed_text_and_unknown_payloads_stay_as_written() -> None:
    lines = [customer("where is my parcel?"), customer("/something_else"), customer("/feedback{broken json")]
    assert display_texts(lines) == [None, None, None]
    assert parse_payload("hello") is None
    assert label_of_payload("feedback", {"helpful": "maybe"}) is None
