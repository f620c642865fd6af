#!/usr/bin/env python3
"""Sweep encoder-adaptation settings fast: lower-layer states are cached once per run.

Development tool, not part of the product. For each `--try key=value,key=value` setting it
restores the base weights, trains the top layers exactly as the build does
(knowledge_base.adaptation), embeds FAQ and queries from the cached states and scores with
the shipped scorer (0.5 nearest + 0.5 centroid + beta * log P(head)).

  adapt_sweep.py banking77_faq10 banking77_queries --try epochs=3 --try epochs=6,batch_faqs=77
  adapt_sweep.py clinc150_faq --clinc --try epochs=3
"""

from __future__ import annotations

import argparse
import copy
import csv
import random
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from knowledge_base.adaptation import AdaptConfig, TopLayerRunner, _batches, _label_loss, _train, plan_steps
from knowledge_base.calibration import CalibrationInput, calibrate, evaluate_setting
from knowledge_base.encoder import DEFAULT_MODEL, load_encoder
from knowledge_base.head import HeadConfig, log_softmax, train_head
from knowledge_base.thresholds import DEFAULT_THRESHOLDS
from knowledge_base.scoring import centroids_of


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    key = "question" if "question" in rows[0] else "text"
    return [r[key] for r in rows], [r["faq_id"] for r in rows]


def score_all(fv, rows, n, qv, head_cfg: HeadConfig, alpha=0.5, beta=0.1):
    sims = qv @ fv.T
    nearest = np.full((len(qv), n), -1.0, dtype=np.float32)
    for c in range(n):
        nearest[:, c] = sims[:, rows == c].max(axis=1)
    cent = qv @ centroids_of(fv, rows, n).T
    s = alpha * nearest + (1 - alpha) * cent
    head = train_head(fv, rows, n, head_cfg)
    if head is not None and beta:
        s = s + beta * log_softmax(qv @ head[0].T + head[1])
    return s


def top3(scores: np.ndarray, truth: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float]:
    """((top-3 FAQ indices, their scores, truth), top-1 accuracy over the in-scope queries)."""
    order = np.argsort(-scores, axis=1)[:, :3]
    ins = truth >= 0
    return (order, np.take_along_axis(scores, order, axis=1), truth), float((order[ins, 0] == truth[ins]).mean())


def clinc_check(res: dict, classes: list[str]) -> tuple[float, dict, dict]:
    """Calibrate on clinc150_calib, then (answer threshold, metrics at it, metrics at the defaults) on clinc150_check."""
    o, tp, tr = res["clinc150_calib"]
    th = calibrate(CalibrationInput([[classes[i] for i in r] for r in o], tp.tolist(),
                                    [classes[x] if x >= 0 else None for x in tr]), score_name="sweep")
    o, tp, tr = res["clinc150_check"]
    m = evaluate_setting(tp[:, 0], tp[:, 1], tr >= 0, o[:, 0] == tr, th.answer, th.margin)
    m2 = evaluate_setting(tp[:, 0], tp[:, 1], tr >= 0, o[:, 0] == tr, DEFAULT_THRESHOLDS.answer, DEFAULT_THRESHOLDS.margin)
    return th.answer, m, m2


def parse(spec: str, base: AdaptConfig) -> AdaptConfig:
    cfg = base
    for item in filter(None, spec.split(",")):
        k, v = item.split("=")
        cfg = replace(cfg, **{k: type(getattr(cfg, k))(v)})
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("faq")
    ap.add_argument("queries", nargs="*")
    ap.add_argument("--clinc", action="store_true", help="queries = clinc150_calib + clinc150_check")
    ap.add_argument("--data", type=Path, default=Path(".cache/kb-data"))
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--try", dest="tries", action="append", default=[], help="'none' = no training, '' = defaults")
    ap.add_argument("--beta", default="0.1", help="comma-separated head weights to score with")
    args = ap.parse_args()
    torch.set_num_threads(2)
    enc = load_encoder(DEFAULT_MODEL)
    model = enc.model
    runner = TopLayerRunner(model, args.layers)
    ftexts, flabels = read(args.data / f"{args.faq}.csv")
    classes = sorted(set(flabels))
    idx = {c: i for i, c in enumerate(classes)}
    rows = np.array([idx[c] for c in flabels])
    groups = defaultdict(list)
    for i, c in enumerate(rows):
        groups[c].append(i)
    index_groups = [groups[c] for c in range(len(classes))]
    qnames = ["clinc150_calib", "clinc150_check"] if args.clinc else args.queries
    t = time.perf_counter()
    fstates = runner.cache(ftexts)
    qsets = {}
    for name in qnames:
        qt, ql = read(args.data / f"{name}.csv")
        qsets[name] = (runner.cache(qt), np.array([idx.get(c, -1) if c else -1 for c in ql]))
    print(f"cached {len(ftexts)} + queries in {time.perf_counter() - t:.0f}s", flush=True)
    base_state = copy.deepcopy([layer.state_dict() for layer in runner.top])
    head_cfg = HeadConfig()
    for spec in args.tries:
        cfg = parse("" if spec == "none" else spec, replace(AdaptConfig(), train_layers=args.layers))
        for layer, st in zip(runner.top, base_state):
            layer.load_state_dict(st)
        steps = plan_steps(len(ftexts), cfg, len(classes))
        t = time.perf_counter()
        cpu = time.process_time()
        rng = random.Random(cfg.seed)
        torch.manual_seed(cfg.seed)
        if spec != "none":
            for p in model.parameters():
                p.requires_grad_(False)
            for p in runner.parameters():
                p.requires_grad_(True)
            model.train()
            params, extra = runner.parameters(), None
            if cfg.label_loss > 0:
                params, extra = _label_loss(runner, fstates, index_groups, cfg, params)
            model.train()
            losses = _train(params, lambda ix: runner.embed([fstates[i] for i in ix]),
                            _batches(index_groups, cfg, steps, rng), cfg, steps, None, extra)
            model.eval()
        else:
            losses, steps = [0.0], 0
        train_s, train_cpu = time.perf_counter() - t, time.process_time() - cpu
        fv = runner.encode_cached(fstates)
        out = []
        res = {}
        qvs = {name: runner.encode_cached(qs) for name, (qs, _) in qsets.items()}
        for beta in [float(b) for b in args.beta.split(",")]:
          for name, (qs, truth) in qsets.items():
            res[name], top1 = top3(score_all(fv, rows, len(classes), qvs[name], head_cfg, beta=beta), truth)
            out.append(f"b{beta} {name} top1 {top1:.4f}")
          if args.clinc:
            answer, m, m2 = clinc_check(res, classes)
            out.append(f"check@calib ans {answer:.3f}: ac {m['answered_correct']:.3f} wrong {m['wrong']:.3f} oos {m['oos_rejected']:.3f}")
            out.append(f"defaults: ac {m2['answered_correct']:.3f} wrong {m2['wrong']:.3f} oos {m2['oos_rejected']:.3f}")
        print(f"[{spec or 'default'}] steps {steps} loss {losses[0]:.3f}->{np.mean(losses[-10:]):.3f} "
              f"train {train_s:.0f}s (cpu {train_cpu:.0f}s) | " + " | ".join(out), flush=True)


if __name__ == "__main__":
    main()
