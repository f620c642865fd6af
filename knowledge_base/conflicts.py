"""Phrasings that sit closer to another FAQ than to their own: what an editor should look at.

Why: when two FAQs share phrasings ("where is my card?" under both "card arrival" and
"card delivery estimate"), the bot's answers between them become a coin toss and its
scores drop into the "Did you mean" band. A phrasing is checked the way a customer's
question would be scored, but left out of its own FAQ (its own vector would always win):

  score(FAQ) = ALPHA * best other phrasing of the FAQ + (1 - ALPHA) * cosine to the FAQ's
               centroid without the phrasing

(scoring.py's mix without the classifier head, which was trained on the phrasing itself).
A phrasing whose best rival FAQ scores higher is a conflict; one whose own FAQ wins by
less than `margin` is close.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .scoring import ALPHA

CHUNK = 1024  # phrasings scored at once: bounds memory at CHUNK x phrasings floats


@dataclass(frozen=True)
class Conflict:
    faq_id: str
    phrasing: str
    own_score: float
    rival_id: str
    rival_score: float

    @property
    def margin(self) -> float:
        return self.own_score - self.rival_score

    @property
    def closer_to_rival(self) -> bool:
        return self.margin < 0

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "margin": round(self.margin, 4)}


def find_conflicts(
    faq_ids: list[str], texts: list[str], vectors: np.ndarray, rows: np.ndarray, *, margin: float
) -> list[Conflict]:
    """Phrasings whose own FAQ does not win by at least `margin`, worst first.

    `vectors` are unit phrasing vectors, `rows[i]` the position in `faq_ids` of the FAQ
    that owns `texts[i]`. A FAQ with a single phrasing has nothing left to compare it
    with and is skipped (so is a knowledge base of one FAQ).
    """
    n_faqs = len(faq_ids)
    rows = np.asarray(rows, dtype=np.int64)
    vectors = np.asarray(vectors, dtype=np.float32)
    if n_faqs < 2 or len(texts) == 0:
        return []
    sums = np.zeros((n_faqs, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, rows, vectors)
    counts = np.bincount(rows, minlength=n_faqs)
    if (counts == 0).any():
        raise ValueError("every FAQ needs at least one phrasing vector")
    centroids = _unit(sums).astype(np.float32)
    # Phrasings grouped by FAQ, so each FAQ's best phrasing is one reduceat over a slice.
    by_faq = np.argsort(rows, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    found: list[Conflict] = []
    for start in range(0, len(texts), CHUNK):
        part = np.arange(start, min(start + CHUNK, len(texts)))
        scores = _leave_one_out_scores(vectors, rows, centroids, sums, part, by_faq, starts)
        own = scores[np.arange(len(part)), rows[part]]
        scores[np.arange(len(part)), rows[part]] = -np.inf
        rival = scores.argmax(axis=1)
        rival_score = scores[np.arange(len(part)), rival]
        for k, i in enumerate(part):
            if counts[rows[i]] < 2:
                continue
            conflict = Conflict(faq_ids[rows[i]], texts[i], round(float(own[k]), 4),
                                faq_ids[rival[k]], round(float(rival_score[k]), 4))
            if conflict.margin < margin:  # on the rounded scores it reports, so both agree
                found.append(conflict)
    found.sort(key=lambda c: c.margin)
    return found


def _leave_one_out_scores(vectors, rows, centroids, sums, part, by_faq, starts) -> np.ndarray:
    sims = vectors[part] @ vectors.T
    sims[np.arange(len(part)), part] = -np.inf  # a phrasing is not its own neighbour
    nearest = np.maximum.reduceat(sims[:, by_faq], starts, axis=1)  # each FAQ's best phrasing
    cent = vectors[part] @ centroids.T
    own_rest = _unit(sums[rows[part]] - vectors[part])  # own FAQ's centroid without the phrasing
    cent[np.arange(len(part)), rows[part]] = np.einsum("ij,ij->i", vectors[part], own_rest)
    return ALPHA * nearest + (1 - ALPHA) * cent


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


@dataclass(frozen=True)
class ConflictReport:
    """Every conflict of one index, worst first, with what they were measured against."""

    conflicts: list[Conflict]
    phrasings: int  # phrasings checked
    margin: float

    @property
    def closer_to_rival(self) -> int:
        return sum(1 for c in self.conflicts if c.closer_to_rival)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON both the CLI and the FAQ gaps page give; `limit` caps both lists."""
        closer = self.closer_to_rival
        return {
            "phrasings": self.phrasings, "margin": self.margin, "closer_to_rival": closer,
            "within_margin": len(self.conflicts) - closer,
            "conflicts": [c.as_json() for c in self.conflicts[:limit]],
            "pairs": [{"faqs": [a, b], "phrasings": n} for a, b, n in rival_pairs(self.conflicts)[:limit]],
        }


def rival_pairs(conflicts: list[Conflict]) -> list[tuple[str, str, int]]:
    """FAQ pairs (unordered) by how many of their phrasings are in conflict, most first."""
    counts = Counter(tuple(sorted((c.faq_id, c.rival_id))) for c in conflicts)
    return [(a, b, n) for (a, b), n in counts.most_common()]
