"""The lexicon sentiment scorer on clear, negated, intensified and emphatic examples."""

from __future__ import annotations

import pytest

from handoff import HandoffPolicy
from handoff.sentiment import analyse, is_negative, score

THRESHOLD = HandoffPolicy().negative_sentiment_threshold


@pytest.mark.parametrize(
    "text",
    [
        "This is terrible, I want my money back!",
        "Worst service ever. Absolutely useless.",
        "I am so frustrated, nobody answers and my parcel is lost",
        "This is a waste of money",
        "I'm fed up with this scam",
    ],
)
def test_clearly_negative_escalates(text: str) -> None:
    assert is_negative(text, THRESHOLD), (text, analyse(text))


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, that was really helpful!",
        "Where is my order?",
        "Can I change my delivery address?",
        "not bad at all",
        "The support was not terrible",
        "I am happy with the refund",
    ],
)
def test_neutral_or_positive_does_not(text: str) -> None:
    assert not is_negative(text, THRESHOLD), (text, analyse(text))


def test_negation_flips_and_weakens() -> None:
    assert score("I am happy") > 0 > score("I am not happy")
    assert score("I am not happy") > score("I am unhappy")  # negated is milder
    assert score("this is bad") < 0 < score("this is not bad")


def test_intensifiers_dampeners_and_emphasis() -> None:
    assert score("I am very angry") < score("I am angry") < score("I am slightly angry") < 0
    assert score("I am angry!!!") < score("I am angry")
    assert score("This is AWFUL, honestly") < score("This is awful, honestly")
    # A whole message in capitals is shouting throughout, not emphasis of one word.
    assert score("THIS IS AWFUL") == score("this is awful")


def test_the_part_after_but_counts_more() -> None:
    assert score("the product is good but the delivery was awful") < 0
    assert score("the delivery was awful but the agent was great") > 0


def test_range_and_empty_input() -> None:
    assert score("") == 0.0 and score("12345 ...") == 0.0
    extreme = " ".join(["terrible"] * 50) + "!!!!!!"
    assert -1.0 <= score(extreme) < -0.95
    assert 0.95 < score(" ".join(["excellent"] * 50)) <= 1.0


def test_contributions_explain_the_score() -> None:
    result = analyse("not good, but the agent was great")
    assert [label for label, _ in result.contributions] == ["good", "great"]
