"""Vector index over phrasing embeddings: exact for small sets, IVF above a size limit.

Exact inner product (IndexFlatIP) is both fastest to build and exact up to tens of
thousands of vectors: 50k x 384 floats is ~20M multiply-adds per query, a few ms on one
core. Above that an inverted-file index (IVF, flat lists) scans only the `nprobe` nearest
cells. We prefer IVF over HNSW here because it builds a million vectors in about a minute on
two cores (HNSW takes many times longer), its memory is the raw vectors plus a small
quantizer, and recall is tuned at query time with nprobe (measured by `kb bench`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)

EXACT_LIMIT = 50_000
KIND_EXACT = "flat_ip"
KIND_IVF = "ivf_flat_ip"


def _ivf_nlist(n: int) -> int:
    # ~2*sqrt(n) cells: ~500 vectors per cell at 1M, and k-means plus assignment stay
    # around a minute on two cores (both cost n * nlist * dim).
    return int(min(65536, max(64, 2 * math.sqrt(n))))


def _ivf_nprobe(nlist: int) -> int:
    # 2-3% of cells: measured recall@1 >= 0.99 on clustered synthetic data (see kb bench).
    return int(max(16, min(nlist, round(nlist * 0.025))))


class VectorIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines)."""

    def __init__(self, index: faiss.Index, kind: str):
        self.index = index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @classmethod
    def create(cls, n_total: int, dim: int, *, exact_limit: int = EXACT_LIMIT, nprobe: int | None = None,
               seed: int = 0) -> "VectorIndex":
        """An empty index sized for n_total vectors (call train() then add())."""
        if n_total <= exact_limit:
            return cls(faiss.IndexFlatIP(dim), KIND_EXACT)
        nlist = _ivf_nlist(n_total)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.cp.niter = 10
        index.nprobe = nprobe or _ivf_nprobe(nlist)
        return cls(index, KIND_IVF)

    def training_size(self, n_total: int) -> int:
        # k-means on a sample: 40 points per centroid and 10 iterations give stable cells
        # (faiss warns below 39) and keep training to seconds even at a million vectors.
        if self.kind != KIND_IVF:
            return 0
        return min(n_total, faiss.extract_index_ivf(self.index).nlist * 40)

    def train(self, sample: np.ndarray) -> None:
        if self.kind == KIND_IVF:
            logger.info("training IVF index: %d cells on %d vectors", faiss.extract_index_ivf(self.index).nlist, len(sample))
            self.index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        exact_limit: int = EXACT_LIMIT,
        nprobe: int | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> "VectorIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        index = cls.create(n, dim, exact_limit=exact_limit, nprobe=nprobe, seed=seed)
        sample_size = index.training_size(n)
        if sample_size:
            rng = np.random.default_rng(seed)
            index.train(vectors[rng.choice(n, size=sample_size, replace=False)] if sample_size < n else vectors)
        chunk = 100_000
        bar = None
        if progress and n > chunk:
            from tqdm import tqdm

            bar = tqdm(total=n, desc="indexing", unit="vec")
        for start in range(0, n, chunk):
            index.add(vectors[start : start + chunk])
            if bar is not None:
                bar.update(min(chunk, n - start))
        if bar is not None:
            bar.close()
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (n_queries, k); missing hits have row -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        k = max(1, min(k, self.size)) if self.size else 1
        return self.index.search(queries, k)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, nprobe: int | None = None) -> "VectorIndex":
        index = faiss.read_index(str(path))
        if kind == KIND_IVF:
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = nprobe or _ivf_nprobe(ivf.nlist)
        return cls(index, kind)
