"""From phrasing hits to one score per FAQ.

score(FAQ) = alpha * best phrasing cosine
           + (1 - alpha) * cosine to the FAQ's centroid (mean phrasing vector)
           + beta * log P(FAQ | query) from the classifier head (when there is one)

Why each part (measured on held-out BANKING77/CLINC150 queries, see docs):
- the best phrasing catches a query that is nearly a stored phrasing;
- the centroid is robust to one odd phrasing and rewards FAQs the query fits as a whole;
- the head's log-probability is ~0 when one FAQ clearly wins and negative when the query
  sits between FAQs, which fixes near-ties and pulls down out-of-scope queries.
Scores stay on a cosine-like scale (<= 1), so thresholds carry over between FAQs.
Only FAQs reached by the nearest phrasing hits are scored, which keeps the cost
independent of the FAQ size apart from the head's one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .head import log_softmax
from .store import Snapshot

SCORE_NAME = "mix_head_v1"
ALPHA = 0.5
BETA = 0.1


@dataclass(frozen=True)
class Ranking:
    """Top FAQs for one query: positions into snapshot.entries and their scores, best first."""

    faq_positions: list[int]
    scores: list[float]

    @property
    def top_score(self) -> float:
        return self.scores[0] if self.scores else 0.0

    @property
    def runner_up(self) -> float:
        return self.scores[1] if len(self.scores) > 1 else 0.0


def search_depth(snapshot: Snapshot, top_n: int) -> int:
    # Enough phrasing hits that the top_n FAQs are all represented even when the best FAQ
    # owns many near-identical phrasings.
    return min(snapshot.index.size, max(64, 16 * top_n))


def rank(snapshot: Snapshot, query_vectors: np.ndarray, top_n: int = 5, *, max_candidates: int = 24) -> list[Ranking]:
    query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
    hit_scores, hits = snapshot.index.search(query_vectors, search_depth(snapshot, top_n))
    head_logp = None
    if snapshot.head is not None:
        weights, bias = snapshot.head
        head_logp = log_softmax(query_vectors @ weights.T + bias)
    out: list[Ranking] = []
    for qi, (row_scores, row_hits) in enumerate(zip(hit_scores, hits)):
        best: dict[int, float] = {}
        for score, hit in zip(row_scores.tolist(), row_hits.tolist()):
            if hit < 0:
                continue
            faq = int(snapshot.rows[hit])
            if faq not in best:  # hits come best first, so the first one is the max
                best[faq] = score
                if len(best) == max_candidates:
                    break
        if not best:
            out.append(Ranking([], []))
            continue
        positions = np.fromiter(best.keys(), dtype=np.int64)
        nearest = np.fromiter(best.values(), dtype=np.float32)
        centroid = snapshot.centroids[positions] @ query_vectors[qi]
        scores = ALPHA * nearest + (1 - ALPHA) * centroid
        if head_logp is not None:
            scores = scores + BETA * head_logp[qi, positions]
        order = np.argsort(-scores, kind="stable")[:top_n]
        out.append(Ranking(positions[order].tolist(), scores[order].astype(float).tolist()))
    return out


def centroids_of(vectors: np.ndarray, rows: np.ndarray, n_faqs: int) -> np.ndarray:
    sums = np.zeros((n_faqs, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, rows, vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (sums / norms).astype(np.float32)
