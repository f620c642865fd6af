"""Vector index over phrasing embeddings: exact for small sets, FAQ-partitioned IVF above.

Up to 50k vectors, exact inner product (IndexFlatIP): instant to build, exact, and one
query scans ~20M multiply-adds (under a few ms on one core).

Above that, an inverted file whose cells are the FAQs themselves: the coarse quantizer is
the exact index of FAQ centroids and each phrasing is filed under its own FAQ. A query
finds the `nprobe` (64) nearest FAQ centroids and scans only their phrasings. A FAQ's
phrasings are the natural cluster of the data, so no k-means is needed (the build is
seconds at a million vectors) and recall is high as long as a FAQ's phrasings surround its
centroid. Measured alternatives on the same synthetic 1M benchmark, busy 2-core machine:
k-means IVF-Flat (2,000 cells) needed 256 probes for recall@1 0.98 at p99 ~23 ms, and HNSW
(M=32) reached 0.999 recall at 100k but built at under 1,000 vectors/s (~20 min for 1M).
HNSW stays as the fallback when there are too few FAQs for useful cells (more than
MAX_CELL_MEAN phrasings per FAQ on average).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)

EXACT_LIMIT = 50_000
KIND_EXACT = "flat_ip"
KIND_HNSW = "hnsw_flat_ip"
KIND_IVF_FAQ = "ivf_faq_ip"
IVF_NPROBE = 64  # FAQ cells scanned per query
MAX_CELL_MEAN = 1000
EXACT_QUANTIZER_LIMIT = 10_000  # FAQ cells above which the cells are found with HNSW
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
# Breadth of the graph search; >= the 64 hits the scorer asks for, and 128 measured
# recall@1 0.996 at 100k synthetic vectors.
EF_SEARCH = 128


# Below this many queries faiss's OpenMP threads cost more than they bring: on a busy
# 2-core machine one 10k-vector query took 16 ms p50 with 2 threads and 0.3 ms with 1.
# Concurrency in the bot comes from its worker threads, not from inside one search.
# (omp_set_num_threads sets the calling thread's own OpenMP setting, so worker threads do
# not interfere with each other.)
SMALL_BATCH = 16
ALL_THREADS = max(1, os.cpu_count() or 1)


class VectorIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines)."""

    def __init__(self, index: faiss.Index, kind: str):
        self.index = index
        self.kind = kind
        self._quantizer: faiss.Index | None = None

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @classmethod
    def create(cls, n_total: int, dim: int, *, exact_limit: int = EXACT_LIMIT, ef_search: int = EF_SEARCH,
               seed: int = 0) -> "VectorIndex":
        """An empty index sized for n_total vectors (call train() then add())."""
        if n_total <= exact_limit:
            return cls(faiss.IndexFlatIP(dim), KIND_EXACT)
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = ef_search
        return cls(index, KIND_HNSW)

    def training_size(self, n_total: int) -> int:
        return 0  # neither flat nor HNSW needs training

    def train(self, sample: np.ndarray) -> None:
        """Kept for index kinds that need training; flat and HNSW do not."""

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def create_partitioned(cls, centroids: np.ndarray, nprobe: int = IVF_NPROBE) -> "VectorIndex":
        """An empty IVF whose cells are the given (FAQ) centroids; fill with add_to_cells()."""
        centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        if len(centroids) > EXACT_QUANTIZER_LIMIT:
            # Scanning every centroid would dominate query time (50k centroids: ~9 ms on a
            # busy core); a graph over the centroids finds the nearest cells in well under 1 ms.
            quantizer = faiss.IndexHNSWFlat(centroids.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            quantizer.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            quantizer.hnsw.efSearch = max(EF_SEARCH, 2 * nprobe)
        else:
            quantizer = faiss.IndexFlatIP(centroids.shape[1])
        quantizer.add(centroids)
        index = faiss.IndexIVFFlat(quantizer, centroids.shape[1], len(centroids), faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True  # the cells are given, not learned
        index.nprobe = min(nprobe, len(centroids))
        made = cls(index, KIND_IVF_FAQ)
        made._quantizer = quantizer  # keep the Python object alive as long as the index
        return made

    def add_to_cells(self, vectors: np.ndarray, cells: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        cells = np.ascontiguousarray(cells, dtype=np.int64)
        ids = np.arange(self.size, self.size + len(vectors), dtype=np.int64)
        self.index.add_core(len(vectors), faiss.swig_ptr(vectors), faiss.swig_ptr(ids), faiss.swig_ptr(cells))

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        cells: np.ndarray | None = None,
        centroids: np.ndarray | None = None,
        exact_limit: int = EXACT_LIMIT,
        seed: int = 0,
        progress: bool = False,
    ) -> "VectorIndex":
        """Exact up to exact_limit; above, FAQ-partitioned IVF when cells (the FAQ of each
        vector) and centroids are given and FAQs are small enough, else HNSW."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n > exact_limit and cells is not None and centroids is not None and n / max(1, len(centroids)) <= MAX_CELL_MEAN:
            index = cls.create_partitioned(centroids)
            index.add_to_cells(vectors, cells)
            return index
        index = cls.create(n, dim, exact_limit=exact_limit, seed=seed)
        faiss.omp_set_num_threads(ALL_THREADS)  # building is the one place to use every core
        chunk = 20_000
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
        faiss.omp_set_num_threads(1 if len(queries) < SMALL_BATCH else ALL_THREADS)
        return self.index.search(queries, k)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, ef_search: int = EF_SEARCH) -> "VectorIndex":
        index = faiss.read_index(str(path))
        if kind == KIND_HNSW:
            faiss.downcast_index(index).hnsw.efSearch = ef_search
        elif kind == KIND_IVF_FAQ:
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = min(IVF_NPROBE, ivf.nlist)
            quantizer = faiss.downcast_index(ivf.quantizer)
            if isinstance(quantizer, faiss.IndexHNSWFlat):
                quantizer.hnsw.efSearch = max(EF_SEARCH, 2 * ivf.nprobe)
        return cls(index, kind)
