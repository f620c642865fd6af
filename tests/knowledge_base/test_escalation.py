import pytest

from knowledge_base.escalation import EscalationPolicy


@pytest.mark.parametrize(
    "events, offer",
    [
        ([], False),
        (["answer", "thumbs_down"], False),
        (["answer", "thumbs_down", "answer", "thumbs_down"], True),
        (["fallback"], False),
        (["fallback", "fallback"], True),
        (["fallback", "thumbs_down", "fallback"], True),  # feedback does not break the run
        (["fallback", "answer", "fallback"], False),
        (["fallback", "fallback", "human_offered"], False),  # counting restarts after an offer
        (["answer", "thumbs_down", "human_offered", "answer", "thumbs_down"], False),
        (["answer", "thumbs_down", "human_offered", "fallback", "fallback"], True),
    ],
)
def test_two_thumbs_down_or_two_fallbacks_in_a_row(events, offer):
    assert EscalationPolicy().should_offer_human(events) is offer
