"""Clustering with the real packaged encoder: paraphrases together, topics apart, by volume."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from staff.gaps.clustering import cluster_vectors, group_texts
from staff.gaps.selection import FALLBACK, SUGGEST, GapQuestion
from bot.transcript.models import utcnow
from knowledge_base.encoder import Encoder


def questions(texts: list[tuple[str, str]]) -> list[GapQuestion]:
    now = utcnow()
    return [GapQuestion(i + 1, text, "web", now - timedelta(minutes=i), reason)
            for i, (text, reason) in enumerate(texts)]


def clusters_of(encoder: Encoder, qs: list[GapQuestion], min_similarity: float = 0.5) -> list[list[str]]:
    texts = group_texts(qs)
    vectors = encoder.encode([t.text for t in texts])
    weights = np.asarray([t.weight for t in texts], dtype=np.float32)
    return [[texts[i].text for i in members] for members in cluster_vectors(vectors, weights, min_similarity)]


def test_paraphrases_cluster_together_and_topics_apart(encoder: Encoder) -> None:
    qs = questions([
        ("can I pay with paypal", FALLBACK),
        ("where is my refund", FALLBACK),
        ("do you accept PayPal?", FALLBACK),
        ("I still haven't received my refund", FALLBACK),
        ("when do I get my money back for the return", FALLBACK),
    ])
    clusters = clusters_of(encoder, qs)
    assert len(clusters) == 2
    refund, paypal = clusters  # ranked by volume: three refund questions, two PayPal ones
    assert sorted(refund) == sorted(["where is my refund", "I still haven't received my refund",
                                     "when do I get my money back for the return"])
    assert sorted(paypal) == ["can I pay with paypal", "do you accept PayPal?"]
    # The representative is the most central wording, not the first one asked.
    assert refund[0] in ("where is my refund", "I still haven't received my refund")


def test_repeats_count_and_suggestions_weigh_half(encoder: Encoder) -> None:
    qs = questions(
        [("Do you ship to Norway?", SUGGEST)] * 3
        + [("do you ship to norway", SUGGEST)]
        + [("is there a student discount", FALLBACK)] * 3
    )
    texts = group_texts(qs)
    # Case and spacing do not make a new question.
    assert [(t.text, t.count, t.weight) for t in texts] == [
        ("is there a student discount", 3, 3.0), ("Do you ship to Norway?", 4, 2.0)
    ]
    clusters = clusters_of(encoder, qs)
    # Four suggestion-only questions weigh 2, three dead ends weigh 3.
    assert clusters == [["is there a student discount"], ["Do you ship to Norway?"]]


def test_empty_and_single() -> None:
    assert cluster_vectors(np.zeros((0, 4), dtype=np.float32), np.zeros(0), 0.5) == []
    one = np.asarray([[1.0, 0, 0, 0]], dtype=np.float32)
    assert cluster_vectors(one, np.ones(1), 0.5) == [[0]]
