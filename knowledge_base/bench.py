"""Index benchmark on synthetic entries: build time, query latency, memory, recall vs exact.

Encoding a million texts would take hours on two cores and measure the model, not the
index, so entries are synthetic vectors shaped like sentence embeddings of a FAQ: clusters
("FAQs") of ~20 noisy members ("phrasings") around random unit centres, with a within-
cluster cosine similar to real paraphrases. Queries are fresh draws from random clusters,
so their exact nearest neighbour is one of several close members, the hard case for an
approximate index. Vectors are generated chunk by chunk from per-chunk seeds, which lets
the exact ground truth be recomputed by streaming instead of holding a second copy.

recall@1 = share of queries whose approximate top-1 is the exact top-1 (ties in score,
which happen with duplicate vectors, count as a match).
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

import faiss

from .index import ALL_THREADS, EXACT_LIMIT, KIND_IVF_FAQ, VectorIndex

logger = logging.getLogger(__name__)

CHUNK = 50_000
MEMBERS_PER_CLUSTER = 20
# Per-dimension noise: |noise|^2 = 384 * 0.035^2 = 0.47, so members of a cluster have
# cosine ~0.68 with each other, like paraphrases of one question under MiniLM.
NOISE = 0.035
SEARCH_K = 64  # phrasing hits fetched per query by the real scorer (scoring.search_depth)


@dataclass(frozen=True)
class BenchResult:
    size: int
    index_kind: str
    build_s: float
    p50_ms: float
    p99_ms: float
    rss_mb: float
    peak_rss_mb: float
    recall_at_1: float

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class SyntheticFaq:
    def __init__(self, size: int, dim: int, seed: int):
        self.size, self.dim, self.seed = size, dim, seed
        self.n_clusters = max(1, size // MEMBERS_PER_CLUSTER)
        centres = np.random.default_rng(seed).standard_normal((self.n_clusters, dim)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def _draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        clusters = rng.integers(0, self.n_clusters, size=n)
        x = self.centres[clusters] + rng.standard_normal((n, self.dim), dtype=np.float32) * NOISE
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x, clusters

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(vectors, FAQ of each vector) chunk by chunk, reproducibly."""
        for i, start in enumerate(range(0, self.size, CHUNK)):
            yield self._draw(np.random.default_rng((self.seed, i)), min(CHUNK, self.size - start))

    def centroids(self) -> np.ndarray:
        """Unit mean vector per FAQ, computed from the entries like the real build does."""
        from scipy.sparse import csr_matrix

        sums = np.zeros((self.n_clusters, self.dim), dtype=np.float32)
        for x, labels in self.chunks():
            onehot = csr_matrix((np.ones(len(x), np.float32), (labels, np.arange(len(x)))), shape=(self.n_clusters, len(x)))
            sums += onehot @ x
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return sums / norms

    def queries(self, n: int) -> np.ndarray:
        # A seed sequence no chunk uses, so queries are new draws, not copies of entries.
        return self._draw(np.random.default_rng((self.seed, 10**9)), n)[0]


def exact_top1(data: SyntheticFaq, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    best_score = np.full(len(queries), -np.inf, dtype=np.float32)
    best_id = np.full(len(queries), -1, dtype=np.int64)
    offset = 0
    for chunk, _ in data.chunks():
        sims = queries @ chunk.T
        idx = sims.argmax(axis=1)
        score = sims[np.arange(len(queries)), idx]
        better = score > best_score
        best_score[better] = score[better]
        best_id[better] = idx[better] + offset
        offset += len(chunk)
    return best_id, best_score


def run_one(size: int, *, dim: int = 384, n_queries: int = 1000, exact_limit: int = EXACT_LIMIT,
            seed: int = 0, progress: bool = True) -> BenchResult:
    data = SyntheticFaq(size, dim, seed)
    started = time.perf_counter()
    faiss.omp_set_num_threads(ALL_THREADS)
    if size > exact_limit:
        # What the real build does above the exact limit: cells are the FAQs.
        index = VectorIndex.create_partitioned(data.centroids())
    else:
        index = VectorIndex.create(size, dim, exact_limit=exact_limit, seed=seed)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=size, desc=f"bench {size:,}: indexing", unit="vec", leave=False)
    for chunk, labels in data.chunks():
        if index.kind == KIND_IVF_FAQ:
            index.add_to_cells(chunk, labels)
        else:
            index.add(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    build_s = time.perf_counter() - started

    queries = data.queries(n_queries)
    for q in queries[:20]:  # warm caches and faiss thread pools
        index.search(q[None, :], SEARCH_K)
    latencies, approx = [], []
    for q in queries:
        t = time.perf_counter()
        scores, ids = index.search(q[None, :], SEARCH_K)
        latencies.append((time.perf_counter() - t) * 1000)
        approx.append((int(ids[0, 0]), float(scores[0, 0])))
    rss = _rss_mb()
    truth_id, truth_score = exact_top1(data, queries)
    hits = sum(1 for (i, s), ti, ts in zip(approx, truth_id, truth_score) if i == ti or s >= ts - 1e-6)
    lat = np.array(latencies)
    return BenchResult(
        size=size,
        index_kind=index.kind,
        build_s=round(build_s, 2),
        p50_ms=round(float(np.percentile(lat, 50)), 3),
        p99_ms=round(float(np.percentile(lat, 99)), 3),
        rss_mb=round(rss, 1),
        peak_rss_mb=round(_peak_rss_mb(), 1),
        recall_at_1=round(hits / n_queries, 4),
    )
