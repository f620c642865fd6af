"""Phrasings closer to another FAQ than to their own (knowledge_base/conflicts.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kb_testing import ACCOUNT_YML, ORDERS_YML, write

from knowledge_base import conflicts
from knowledge_base.cli import main
from knowledge_base.conflicts import find_conflicts, rival_pairs


def unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


# Three FAQs along three axes; "stray" belongs to FAQ a but points at FAQ b.
IDS = ["a", "b", "c"]
TEXTS = ["a1", "a2", "stray", "b1", "b2", "c1", "c2"]
VECTORS = unit([1, 0.1, 0], [1, 0, 0.1], [0.1, 1, 0], [0, 1, 0.1], [0.1, 1, 0.1], [0, 0.1, 1], [0.1, 0, 1])
ROWS = np.array([0, 0, 0, 1, 1, 2, 2])


def test_a_phrasing_nearer_another_faq_is_reported_with_its_rival_and_scores():
    found = find_conflicts(IDS, TEXTS, VECTORS, ROWS, margin=0.0)
    assert [(c.faq_id, c.phrasing, c.rival_id) for c in found] == [("a", "stray", "b")]
    (stray,) = found
    assert stray.closer_to_rival and stray.rival_score > stray.own_score
    # Left out of its own FAQ: its own score comes from a1/a2 only, not from itself.
    a_rest = VECTORS[:2].sum(axis=0)
    own = 0.5 * float((VECTORS[2] @ VECTORS[:2].T).max()) + 0.5 * float(VECTORS[2] @ (a_rest / np.linalg.norm(a_rest)))
    assert stray.own_score == pytest.approx(own, abs=1e-4)
    assert rival_pairs(found) == [("a", "b", 1)]
    assert stray.as_json()["margin"] == pytest.approx(stray.margin, abs=1e-4)


def test_the_margin_also_lists_phrasings_whose_own_faq_wins_narrowly():
    # c1 leans towards b: still c's, but by less than a wide margin.
    vectors = VECTORS.copy()
    vectors[5] = unit([0, 0.8, 1])[0]
    narrow = find_conflicts(IDS, TEXTS, vectors, ROWS, margin=0.0)
    wide = find_conflicts(IDS, TEXTS, vectors, ROWS, margin=0.5)
    assert "c1" not in [c.phrasing for c in narrow]
    listed = {c.phrasing: c for c in wide}
    assert "c1" in listed and not listed["c1"].closer_to_rival
    assert [c.margin for c in wide] == sorted(c.margin for c in wide)  # worst first


def test_single_phrasing_faqs_and_tiny_bases_are_skipped_and_empty_faqs_refused():
    # d has one phrasing: nothing of its own is left to compare it with.
    ids = IDS + ["d"]
    texts = TEXTS + ["d1"]
    vectors = np.vstack([VECTORS, unit([1, 0, 0])])  # d1 sits right on FAQ a
    found = find_conflicts(ids, texts, vectors, np.append(ROWS, 3), margin=0.0)
    assert "d1" not in [c.phrasing for c in found]
    assert find_conflicts(["a"], ["a1", "a2"], VECTORS[:2], np.array([0, 0]), margin=1.0) == []
    assert find_conflicts(IDS, [], np.zeros((0, 3), np.float32), np.array([], dtype=int), margin=0.0) == []
    with pytest.raises(ValueError, match="at least one phrasing"):
        find_conflicts(IDS, TEXTS[:5], VECTORS[:5], ROWS[:5], margin=0.0)  # c has none


def test_chunked_scoring_matches_one_pass(monkeypatch):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = rng.permutation(np.arange(60) % 6)  # FAQs interleaved, not grouped
    ids = [f"f{i}" for i in range(6)]
    texts = [f"t{i}" for i in range(60)]
    whole = find_conflicts(ids, texts, vectors, rows, margin=0.1)
    monkeypatch.setattr(conflicts, "CHUNK", 7)
    assert find_conflicts(ids, texts, vectors, rows, margin=0.1) == whole
    assert whole  # random vectors overlap: something to compare


def test_cli_reports_a_planted_conflict_and_strict_fails_on_it(tmp_path, capsys):
    faq_dir = tmp_path / "faq"
    write(faq_dir / "orders.yml", ORDERS_YML)
    # A tracking question filed under the password FAQ by mistake.
    write(faq_dir / "account.yml", ACCOUNT_YML.replace(
        "phrasings: [forgot password, reset password link]",
        "phrasings: [forgot password, reset password link, I can't log in, when will my parcel arrive]"))
    common = ["--faq-dir", str(faq_dir), "--index-dir", str(tmp_path / "index"), "--no-progress"]
    assert main(["conflicts", *common, "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["phrasings"] == 11 and report["margin"] == 0.05
    planted = [c for c in report["conflicts"] if c["phrasing"] == "when will my parcel arrive"]
    assert planted and planted[0]["faq_id"] == "account.password" and planted[0]["rival_id"] == "orders.track"
    assert planted[0]["margin"] < 0 and report["closer_to_rival"] >= 1
    assert any(p["faqs"] == ["account.password", "orders.track"] for p in report["pairs"])
    assert main(["conflicts", *common, "--strict"]) == 3
    text = capsys.readouterr().out
    assert "account.password <-> orders.track" in text and "closer to another FAQ" in text
    assert main(["conflicts", *common, "--margin", "-1"]) == 1
    assert "--margin must be between 0 and 2" in capsys.readouterr().err
