"""Noisy training copies of phrasings: deterministic, meaning-preserving edits only."""

from __future__ import annotations

import random
from collections import Counter

from knowledge_base.augment import noisy_copy, with_noisy_copies


def test_short_phrasings_are_left_alone() -> None:
    rng = random.Random(0)
    assert all(noisy_copy(text, rng) == text for text in ["block my card", "refund", "card not arrived"])


def test_a_copy_only_drops_and_swaps_words_of_the_original() -> None:
    rng = random.Random(0)
    text = "I am still waiting on my new card to arrive"
    copies = [noisy_copy(text, rng) for _ in range(200)]
    original = Counter(text.split())
    assert all(not Counter(copy.split()) - original for copy in copies)  # no word invented or repeated
    assert all(copy.split() for copy in copies)  # never empty
    assert len(set(copies)) > 20  # and they do vary


def test_copies_follow_their_group_and_are_reproducible() -> None:
    groups = [["where is my card that I ordered", "card not here"], ["how do I reset my password please"]]
    first = with_noisy_copies(groups, 2, random.Random(7))
    assert [len(g) for g in first] == [6, 3]
    assert first[0][:2] == groups[0] and first[1][:1] == groups[1]
    assert first[0][4:] == ["card not here"] * 2  # short phrasings are copied as they are
    assert with_noisy_copies(groups, 2, random.Random(7)) == first
    assert with_noisy_copies(groups, 0, random.Random(7)) == [list(g) for g in groups]
