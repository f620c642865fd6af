#!/usr/bin/env python3
"""Answer / suggest decision rules compared on cached query vectors (decision_cache.py first).

Development tool: how the shipped decision rule and its defaults were chosen. Each set is
ranked with the shipped scorer over its own index; a rule maps (top score, runner-up) to
answer / suggest / fallback and is reported as answered right, wrong, oos rejected.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_cache import OUT, index_dir_of  # noqa: E402

from knowledge_base.scoring import rank  # noqa: E402
from knowledge_base.store import load_snapshot  # noqa: E402


@dataclass
class _NoEncoder:
    dimension: int


@dataclass
class Scored:
    name: str
    top: np.ndarray       # (n,) best score
    second: np.ndarray    # (n,) runner-up score
    third: np.ndarray
    correct: np.ndarray   # top-1 is the expected FAQ
    in_top3: np.ndarray
    in_scope: np.ndarray

    @property
    def margin(self) -> np.ndarray:
        return self.top - self.second


def scored(name: str) -> Scored:
    data = np.load(OUT / f"{name}.npz", allow_pickle=True)
    # Scoring needs the index, not the encoder: the query vectors are cached.
    snap = load_snapshot(index_dir_of(name), lambda: _NoEncoder(data["vectors"].shape[1]), verify=False)
    rankings = rank(snap, data["vectors"].astype(np.float32), top_n=5)
    ids = [[snap.entries[p].id for p in r.faq_positions] for r in rankings]
    labels = [str(x) for x in data["labels"]]
    pad = lambda r, k: r.scores[k] if len(r.scores) > k else 0.0  # noqa: E731
    return Scored(
        name,
        np.array([pad(r, 0) for r in rankings]), np.array([pad(r, 1) for r in rankings]),
        np.array([pad(r, 2) for r in rankings]),
        np.array([bool(i) and i[0] == e for i, e in zip(ids, labels)]),
        np.array([e in i[:3] for i, e in zip(ids, labels)]),
        np.array([bool(e) for e in labels]),
    )


def report(s: Scored, answered: np.ndarray, suggested: np.ndarray | None = None) -> dict[str, float]:
    n_in, n_oos = int(s.in_scope.sum()), int((~s.in_scope).sum())
    right = answered & s.correct & s.in_scope
    n_ans = int(answered.sum())
    out = {
        "answered_correct": round(right.sum() / n_in, 4),
        "wrong": round((n_ans - right.sum()) / n_ans, 4) if n_ans else 0.0,
        "oos_rejected": round(1 - (answered & ~s.in_scope).sum() / n_oos, 4) if n_oos else None,
        "top1": round((s.correct & s.in_scope).sum() / n_in, 4),
    }
    if suggested is not None:
        sug_in = suggested & ~answered & s.in_scope
        out["suggested"] = round(sug_in.sum() / n_in, 4)
        out["suggest_hit"] = round((sug_in & s.in_top3).sum() / max(1, sug_in.sum()), 4)
        out["fallback_in"] = round((s.in_scope & ~answered & ~suggested).sum() / n_in, 4)
        if n_oos:
            out["oos_fallback"] = round((~s.in_scope & ~answered & ~suggested).sum() / n_oos, 4)
    return out


if __name__ == "__main__":
    for name in sys.argv[1:]:
        s = scored(name)
        a = (s.top >= 0.545) & (s.margin >= 0.05)
        print(name, json.dumps(report(s, a, s.top >= 0.32)))


def subset(s: Scored, mask: np.ndarray, name: str) -> Scored:
    return Scored(name, s.top[mask], s.second[mask], s.third[mask], s.correct[mask], s.in_top3[mask], s.in_scope[mask])


def halves(s: Scored, seed: int = 5) -> tuple[Scored, Scored]:
    """Two halves of a set, each with half of the in-scope and half of the out-of-scope rows."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(s.top), dtype=bool)
    for group in (np.flatnonzero(s.in_scope), np.flatnonzero(~s.in_scope)):
        picked = rng.permutation(group)[: len(group) // 2]
        first[picked] = True
    return subset(s, first, f"{s.name}_a"), subset(s, ~first, f"{s.name}_b")


def merge(name: str, *parts: Scored) -> Scored:
    cat = lambda f: np.concatenate([getattr(p, f) for p in parts])  # noqa: E731
    return Scored(name, cat("top"), cat("second"), cat("third"), cat("correct"), cat("in_top3"), cat("in_scope"))


def answered_by(s: Scored, a: float, m: float, ca: float | None, cm: float | None) -> np.ndarray:
    out = (s.top >= a) & (s.margin >= m)
    if ca is not None:
        out |= (s.top >= ca) & (s.margin >= cm)
    return out


def sweep(tune: list[Scored], *, max_wrong: float, min_oos: float, base: tuple[float, float]) -> list[tuple]:
    """Every (clear_answer, clear_margin) on a grid with the plain rule fixed at `base`:
    feasible when every tuning set keeps wrong <= max_wrong and oos_rejected >= min_oos;
    ranked by the worst tuning set's answered_correct."""
    a, m = base
    rows = []
    for ca in np.arange(0.30, a + 1e-9, 0.005):
        for cm in np.arange(m, 0.301, 0.005):
            metrics = [report(s, answered_by(s, a, m, ca, cm)) for s in tune]
            if any(x["wrong"] > max_wrong or (x["oos_rejected"] is not None and x["oos_rejected"] < min_oos)
                   for x in metrics):
                continue
            rows.append((min(x["answered_correct"] for x in metrics), round(float(ca), 3), round(float(cm), 3), metrics))
    rows.sort(key=lambda r: (-r[0], -r[1], -r[2]))
    return rows
