import numpy as np

from knowledge_base.bench import run_one
from knowledge_base.index import KIND_EXACT, KIND_HNSW, KIND_IVF_FAQ, VectorIndex


def clustered(n, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n // 20), dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_index_finds_itself(tmp_path):
    x = clustered(500)
    index = VectorIndex.build(x)
    assert index.kind == KIND_EXACT
    scores, ids = index.search(x[:50], 1)
    assert (ids[:, 0] == np.arange(50)).all()
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_hnsw_above_the_limit_agrees_with_exact_and_survives_save_load(tmp_path):
    x = clustered(6000)
    approx = VectorIndex.build(x, exact_limit=1000)
    exact = VectorIndex.build(x)
    assert approx.kind == KIND_HNSW  # no FAQ cells given
    q = clustered(200, seed=1)
    _, a = approx.search(q, 1)
    _, e = exact.search(q, 1)
    assert (a[:, 0] == e[:, 0]).mean() >= 0.95
    approx.save(tmp_path / "v.faiss")
    again = VectorIndex.load(tmp_path / "v.faiss", KIND_HNSW)
    _, b = again.search(q, 1)
    assert (b == a).all()


def test_search_depth_is_capped_by_size():
    index = VectorIndex.build(clustered(5))
    scores, ids = index.search(clustered(1, seed=3), 100)
    assert ids.shape == (1, 5)


def test_bench_reports_sane_numbers():
    r = run_one(3000, dim=32, n_queries=50, exact_limit=1000, progress=False)
    assert r.index_kind == KIND_IVF_FAQ
    assert 0.9 <= r.recall_at_1 <= 1.0
    assert r.p50_ms > 0 and r.p99_ms >= r.p50_ms and r.rss_mb > 0


def test_faq_partitioned_ivf_agrees_with_exact(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((300, 32)).astype(np.float32)
    cells = rng.integers(0, 300, 6000)
    x = centres[cells] + 0.3 * rng.standard_normal((6000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    from knowledge_base.scoring import centroids_of

    index = VectorIndex.build(x, cells=cells, centroids=centroids_of(x, cells, 300), exact_limit=1000)
    assert index.kind == KIND_IVF_FAQ
    _, e = VectorIndex.build(x).search(x[:300] + 0.01, 1)
    _, a = index.search(x[:300] + 0.01, 1)
    assert (a[:, 0] == e[:, 0]).mean() >= 0.98
    index.save(tmp_path / "v.faiss")
    _, b = VectorIndex.load(tmp_path / "v.faiss", KIND_IVF_FAQ).search(x[:300] + 0.01, 1)
    assert (b == a).all()
