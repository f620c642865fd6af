#!/usr/bin/env python3
"""Compare scoring methods over cached frozen embeddings (see embed_cache.py).

Development tool, not part of the product: it is how the shipped method was chosen.
Banking77: top-1 on our held-out 20% with 10 / all phrasings per FAQ.
CLINC150: thresholds calibrated on clinc150_calib (half of val + oos_val), reported on
clinc150_check (other half of val + oos_train, never seen by calibration).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np

from knowledge_base.calibration import CalibrationInput, calibrate, evaluate_setting

EXP = Path(".cache/kb-exp")
EMB = EXP


TEXTS: dict[int, list[str]] = {}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(EMB / f"{name}.npz", allow_pickle=True)
    v = data["vectors"].astype(np.float32)
    TEXTS[id(v)] = list(data["texts"])  # lexical methods look texts up by the vector array
    return v, data["labels"]


Scorer = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # queries -> (classes, scores) per query sorted


def per_class_max(sims: np.ndarray, rows: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.full((sims.shape[0], n_classes), -1.0, dtype=np.float32)
    for c in range(n_classes):
        mask = rows == c
        out[:, c] = sims[:, mask].max(axis=1)
    return out


def ranked(scores: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, axis=1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def method_nn(fv, rows, n):
    return lambda q: per_class_max(q @ fv.T, rows, n)


def method_centroid(fv, rows, n):
    c = np.stack([fv[rows == i].mean(0) for i in range(n)])
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    return lambda q: q @ c.T


def method_mix(fv, rows, n, alpha=0.5):
    a, b = method_nn(fv, rows, n), method_centroid(fv, rows, n)
    return lambda q: alpha * a(q) + (1 - alpha) * b(q)


def method_lr(fv, rows, n, C=10.0):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(fv, rows)
    return lambda q: clf.predict_proba(q)


def run(name: str, faq: str, queries: str, make: Callable, **kw) -> dict:
    fv, fl = load(faq)
    classes = sorted(set(fl))
    idx = {c: i for i, c in enumerate(classes)}
    rows = np.array([idx[c] for c in fl])
    qv, ql = load(queries)
    t = time.perf_counter()
    scorer = make(fv, rows, len(classes), **kw)
    fit_s = time.perf_counter() - t
    QUERY_TEXTS[0] = TEXTS[id(qv)]
    s = scorer(qv)
    order, top = ranked(s)
    truth = np.array([idx.get(c, -1) if c else -1 for c in ql])
    ins = truth >= 0
    top1 = float((order[ins, 0] == truth[ins]).mean())
    return {"name": name, "top1": round(top1, 4), "fit_s": round(fit_s, 1), "order": order, "top": top,
            "truth": truth, "classes": classes}


def clinc(name: str, make: Callable, **kw) -> None:
    cal = run(name, "clinc150_faq", "clinc150_calib", make, **kw)
    chk = run(name, "clinc150_faq", "clinc150_check", make, **kw)

    def cinput(r):
        ids = [[r["classes"][i] for i in row] for row in r["order"]]
        exp = [r["classes"][t] if t >= 0 else None for t in r["truth"]]
        return CalibrationInput(ids, r["top"].tolist(), exp)

    th = calibrate(cinput(cal), score_name=name)
    top, runner = chk["top"][:, 0], chk["top"][:, 1]
    ins = chk["truth"] >= 0
    correct = chk["order"][:, 0] == chk["truth"]
    m = evaluate_setting(top, runner, ins, correct, th.answer, th.margin)
    print(f"clinc {name:28s} top1 {chk['top1']:.4f}  answer {th.answer:.3f} margin {th.margin:.3f} -> "
          f"answered_correct {m['answered_correct']:.4f} wrong {m['wrong']:.4f} oos_rejected {m['oos_rejected']:.4f}"
          f"  (dev {th.notes['dev_metrics']})", flush=True)


def banking(name: str, make: Callable, **kw) -> None:
    a = run(name, "banking77_faq10", "banking77_queries", make, **kw)
    b = run(name, "banking77_faqall", "banking77_queries", make, **kw)
    print(f"banking {name:28s} faq10 top1 {a['top1']:.4f}   all top1 {b['top1']:.4f}  (fit {a['fit_s']}s / {b['fit_s']}s)", flush=True)


def method_supcon(fv, rows, n, steps=300, lr=1e-3, scale=20.0, seed=0):
    """Residual linear adapter x + xW trained with label-aware InfoNCE on the phrasings."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    X = torch.from_numpy(fv)
    y = torch.from_numpy(rows)
    W = torch.zeros(X.shape[1], X.shape[1], requires_grad=True)
    opt = torch.optim.Adam([W], lr=lr)
    same = (y[:, None] == y[None, :]).float()
    for _ in range(steps):
        Z = F.normalize(X + X @ W, dim=-1)
        logits = scale * Z @ Z.T
        logits.fill_diagonal_(-1e9)
        logp = logits.log_softmax(dim=1)
        pos = same.clone().fill_diagonal_(0)
        loss = -(logp * pos).sum(1) / pos.sum(1).clamp(min=1)
        loss = loss.mean()
        opt.zero_grad(); loss.backward(); opt.step()
    Wd = W.detach().numpy()

    def proj(q):
        z = q + q @ Wd
        return z / np.linalg.norm(z, axis=1, keepdims=True)

    fz = proj(fv)
    inner = method_mix(fz, rows, n)
    return lambda q: inner(proj(q))


def method_mixlr(fv, rows, n, beta=0.05):
    a = method_mix(fv, rows, n)
    b = method_lr(fv, rows, n)
    return lambda q: a(q) + beta * np.log(b(q) + 1e-9)


QUERY_TEXTS: dict[int, list[str]] = {}


def method_hybrid(fv, rows, n, gamma=0.3, analyzer="char_wb"):
    """Dense mix plus TF-IDF cosine (max per FAQ) with weight gamma."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = TEXTS[id(fv)]
    if analyzer == "word":
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1)
    F_ = vec.fit_transform(texts)
    dense = method_mix(fv, rows, n)

    def score(q):
        Q = vec.transform(QUERY_TEXTS[0])
        lex = per_class_max((Q @ F_.T).toarray().astype(np.float32), rows, n)
        return dense(q) + gamma * lex

    return score


def method_knn(fv, rows, n, k=10, tau=0.05):
    def score(q):
        sims = q @ fv.T
        idx = np.argpartition(-sims, k, axis=1)[:, :k]
        out = np.zeros((len(q), n), dtype=np.float32)
        for i in range(len(q)):
            w = np.exp((sims[i, idx[i]] - sims[i, idx[i]].max()) / tau)
            np.add.at(out[i], rows[idx[i]], w)
        return np.log(out / out.sum(1, keepdims=True) + 1e-9)
    return score


def method_mixknn(fv, rows, n, beta=0.1, k=10, tau=0.05):
    a = method_mixlr(fv, rows, n, beta=beta)
    b = method_knn(fv, rows, n, k=k, tau=tau)
    return lambda q: a(q) + beta * b(q)


METHODS = {
    "knn10": (method_knn, {}),
    "knn20": (method_knn, {"k": 20, "tau": 0.1}),
    "mixknn": (method_mixknn, {}),
    "mixlr.2": (method_mixlr, {"beta": 0.2}),
    "hyb_char.2": (method_hybrid, {"gamma": 0.2}),
    "hyb_char.4": (method_hybrid, {"gamma": 0.4}),
    "hyb_word.2": (method_hybrid, {"gamma": 0.2, "analyzer": "word"}),
    "hyb_word.4": (method_hybrid, {"gamma": 0.4, "analyzer": "word"}),
    "supcon": (method_supcon, {}),
    "mixlr": (method_mixlr, {}),
    "mixlr.1": (method_mixlr, {"beta": 0.1}),
    "mix.7": (method_mix, {"alpha": 0.7}),
    "mix.3": (method_mix, {"alpha": 0.3}),
    "lr1": (method_lr, {"C": 1.0}),
    "lr100": (method_lr, {"C": 100.0}),
    "nn": (method_nn, {}),
    "centroid": (method_centroid, {}),
    "mix": (method_mix, {}),
    "lr": (method_lr, {}),
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("methods", nargs="*", default=list(METHODS))
    parser.add_argument("--emb", help="subfolder of .cache/kb-exp with adapted embeddings")
    parser.add_argument("--only", choices=("banking", "banking10", "bankingall", "clinc"))
    args = parser.parse_args()
    if args.emb:
        EMB = EXP / args.emb
    for m in args.methods:
        make, kw = METHODS[m]
        if args.only == "bankingall":
            r = run(m, "banking77_faqall", "banking77_queries", make, **kw)
            print(f"banking {m:28s} all top1 {r['top1']:.4f}", flush=True)
        if args.only == "banking10":
            r = run(m, "banking77_faq10", "banking77_queries", make, **kw)
            print(f"banking {m:28s} faq10 top1 {r['top1']:.4f}", flush=True)
        if args.only in (None, "banking"):
            banking(m, make, **kw)
        if args.only in (None, "clinc"):
            clinc(m, make, **kw)
