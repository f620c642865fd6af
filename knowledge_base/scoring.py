"""From phrasing hits to one score per FAQ.

The index holds one vector per phrasing; a FAQ's score is its best phrasing's cosine.
(Max rather than mean: a FAQ with one phrasing that matches exactly should win over a FAQ
with many loosely similar ones.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .store import Snapshot

SCORE_NAME = "max_cosine"


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


def rank(snapshot: Snapshot, query_vectors: np.ndarray, top_n: int = 5) -> list[Ranking]:
    scores, hits = snapshot.index.search(query_vectors, search_depth(snapshot, top_n))
    out: list[Ranking] = []
    for row_scores, row_hits in zip(scores, hits):
        best: dict[int, float] = {}
        for score, hit in zip(row_scores.tolist(), row_hits.tolist()):
            if hit < 0:
                continue
            faq = int(snapshot.rows[hit])
            if faq not in best:  # faiss returns hits best first, so the first is the max
                best[faq] = score
                if len(best) == top_n:
                    break
        ordered = sorted(best.items(), key=lambda kv: -kv[1])
        out.append(Ranking([p for p, _ in ordered], [float(s) for _, s in ordered]))
    return out
