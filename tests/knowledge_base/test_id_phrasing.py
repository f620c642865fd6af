"""FAQ ids that read as words become one more phrasing; codes never do."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kb_testing import HashingEncoder

from knowledge_base import FaqEntry
from knowledge_base.builder import PLAIN_BUILD_CONFIG, build_from_entries, default_build_config
from knowledge_base.facade import KnowledgeBase
from knowledge_base.id_phrasing import id_phrasing, texts_with_id
from knowledge_base.thresholds import Thresholds


@pytest.mark.parametrize(
    ("faq_id", "words"),
    [
        ("card_arrival", "card arrival"),
        ("Refund_not_showing_up", "refund not showing up"),
        ("reset-password", "reset password"),
        ("orders.cancel", "orders cancel"),
        ("RefundNotShowingUp", "refund not showing up"),
        ("atm_support", "atm support"),
        ("rückerstattung", "rückerstattung"),
    ],
)
def test_ids_that_read_as_words(faq_id: str, words: str) -> None:
    assert id_phrasing(faq_id) == words


@pytest.mark.parametrize(
    "faq_id",
    ["faq-0012", "42", "a3f9c1", "3f2a9c7e-1b2d-4c5e-8f90-a1b2c3d4e5f6", "q", "ab_cd", "xkcdq_topic", "", "___"],
)
def test_codes_are_left_out(faq_id: str) -> None:
    assert id_phrasing(faq_id) is None


def test_the_id_is_not_added_twice() -> None:
    assert texts_with_id("opening_hours", ["Opening  Hours", "when are you open"]) == ["Opening  Hours", "when are you open"]
    assert texts_with_id("opening_hours", ["when are you open"]) == ["when are you open", "opening hours"]
    assert texts_with_id("faq-7", ["when are you open"]) == ["when are you open"]


ENTRIES = [
    FaqEntry(id="opening_hours", question="When are you open?", answer="9 to 5.", phrasings=["what time do you close"]),
    FaqEntry(id="refund_policy", question="Can I get my money back?", answer="Within 30 days.", phrasings=["return an item"]),
    FaqEntry(id="faq-0003", question="Do you ship abroad?", answer="Yes.", phrasings=["international delivery"]),
]


def test_build_embeds_readable_ids_and_a_query_can_reach_them(tmp_path) -> None:
    encoder = HashingEncoder()
    kb = KnowledgeBase.from_entries(ENTRIES, index_dir=tmp_path / "on", encoder=encoder, config=PLAIN_BUILD_CONFIG,
                                    thresholds=Thresholds(answer=0.5, suggest=0.2, margin=0.0))
    # 6 written texts + "opening hours" + "refund policy"; "faq-0003" is a code.
    assert kb.manifest.n_vectors == 8
    # Only the id shares words with this query.
    assert kb.answer("refund policy").candidates[0].faq_id == "refund_policy"

    off = replace(PLAIN_BUILD_CONFIG, id_phrasings=False)
    assert build_from_entries(ENTRIES, tmp_path / "off", encoder.name, encoder=encoder, config=off,
                              progress=False).n_vectors == 6


def test_environment_can_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPLINE_KB_ID_PHRASINGS", raising=False)
    assert default_build_config().id_phrasings
    monkeypatch.setenv("HELPLINE_KB_ID_PHRASINGS", "0")
    assert not default_build_config().id_phrasings
