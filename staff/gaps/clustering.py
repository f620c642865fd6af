"""Grouping gap questions by meaning and ranking the groups by volume.

1. Identical questions (after redaction, ignoring case, spacing and end punctuation)
   become one *text* with a count, so a question asked 300 times is embedded once and
   weighs 300.
2. At most `max_texts` texts are clustered per request: the heaviest first (newest on
   ties); the rest are counted as "not clustered" so the page can say so.
3. Texts are clustered by agglomerative clustering, average linkage on cosine distance,
   cut where the average similarity between two groups drops below `min_similarity`
   (0.5 by default: paraphrases of one question score ~0.55-0.85 with MiniLM, different
   questions about the same shop ~0.1-0.35). Memory and time grow with the square of the
   number of texts, hence the cap.
4. A cluster's representative is its weighted medoid: the text most similar to the
   others, weighted by how often each was asked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from staff.gaps.selection import REASONS, SUGGEST, GapQuestion

# A customer who got suggestions was partly helped: half the weight of a dead end.
REASON_WEIGHTS = {reason: (0.5 if reason == SUGGEST else 1.0) for reason in REASONS}


@dataclass
class GapText:
    """One distinct question with everything known about the times it was asked."""

    key: str
    text: str  # the newest wording seen
    count: int = 0
    weight: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    rated_down_faqs: Counter[str] = field(default_factory=Counter)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    message_ids: list[int] = field(default_factory=list)

    def add(self, q: GapQuestion) -> None:
        self.count += 1
        self.weight += REASON_WEIGHTS.get(q.reason, 1.0)
        self.reasons[q.reason] += 1
        self.channels[q.channel] += 1
        if q.faq_id:
            self.rated_down_faqs[q.faq_id] += 1
        self.first_seen = q.created_at if self.first_seen is None else min(self.first_seen, q.created_at)
        self.last_seen = q.created_at if self.last_seen is None else max(self.last_seen, q.created_at)
        if len(self.message_ids) < 20:
            self.message_ids.append(q.message_id)


def normalised_key(text: str) -> str:
    """Case, spacing and end punctuation do not make a different question."""
    return " ".join(text.casefold().split()).strip(" ?!.,;:")


def group_texts(questions: list[GapQuestion]) -> list[GapText]:
    """Distinct texts, heaviest first (then most recent). `questions` come newest first."""
    groups: dict[str, GapText] = {}
    for q in questions:
        key = normalised_key(q.text)
        group = groups.get(key)
        if group is None:
            group = groups[key] = GapText(key, q.text)
        group.add(q)
    return sorted(groups.values(), key=lambda g: (-g.weight, -(g.last_seen or datetime.min).timestamp(), g.key))


def cluster_vectors(vectors: np.ndarray, weights: np.ndarray, min_similarity: float) -> list[list[int]]:
    """Clusters of row indices, each with its representative first; heaviest cluster first."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - min_similarity
        ).fit(vectors).labels_
    clusters: list[list[int]] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        sims = vectors[members] @ vectors[members].T
        centrality = sims @ weights[members]
        order = sorted(range(len(members)), key=lambda i: (-centrality[i], -weights[members[i]], int(members[i])))
        representative = int(members[order[0]])
        rest = sorted((int(m) for m in members if m != representative), key=lambda m: (-weights[m], m))
        clusters.append([representative, *rest])
    clusters.sort(key=lambda c: (-float(weights[c].sum()), c[0]))
    return clusters
