#!/usr/bin/env python3
"""Compare whole-model adaptation settings (objective, steps, learning rate) on top-1.

Development tool, not part of the product. For each `--try key=value,...` (AdaptConfig
fields; 'none' = no training) it restores the base weights, adapts the whole model exactly
as the build does (knowledge_base.adaptation.adapt), encodes FAQ and queries and scores
with the shipped scorer (0.5 nearest + 0.5 centroid + 0.1 log P(head)); `--clinc` also
calibrates on clinc150_calib and reports clinc150_check.

  objective_sweep.py banking77_faq10 banking77_queries --try objective=pairs,max_steps=49 --try ''
  objective_sweep.py clinc150_faq --clinc --try ''

A second 10-per-intent draw with many more queries than banking77_queries (less noise:
one query is 0.01% instead of 0.05%) is written by `--write-draw SEED`.
"""

from __future__ import annotations

import argparse
import copy
import csv
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adapt_sweep import clinc_check, parse, read, score_all, top3  # noqa: E402  (same folder, dev tools)

from knowledge_base.adaptation import AdaptConfig, adapt  # noqa: E402
from knowledge_base.encoder import DEFAULT_MODEL, load_encoder  # noqa: E402
from knowledge_base.head import HeadConfig  # noqa: E402

BANKING77 = Path("/work/shared/datasets/banking77/train.csv")


def write_draw(data: Path, seed: int) -> None:
    """b77s{seed}_faq10.csv (10 random phrasings per intent) and b77s{seed}_rest.csv (all others)."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    with BANKING77.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"].strip())
    rng = random.Random(100 + seed)
    with (data / f"b77s{seed}_faq10.csv").open("w", newline="", encoding="utf-8") as f, \
            (data / f"b77s{seed}_rest.csv").open("w", newline="", encoding="utf-8") as g:
        faq, rest = csv.writer(f), csv.writer(g)
        faq.writerow(["faq_id", "question", "answer"])
        rest.writerow(["text", "faq_id"])
        for intent in sorted(by_intent):
            texts = by_intent[intent][:]
            rng.shuffle(texts)
            for i, text in enumerate(texts[:10]):
                faq.writerow([intent, text, f"Answer for {intent}." if i == 0 else ""])
            rest.writerows([text, intent] for text in texts[10:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("faq", nargs="?")
    ap.add_argument("queries", nargs="*")
    ap.add_argument("--clinc", action="store_true", help="queries = clinc150_calib + clinc150_check")
    ap.add_argument("--data", type=Path, default=Path(".cache/kb-data"))
    ap.add_argument("--try", dest="tries", action="append", default=[], help="'none' = no training, '' = defaults")
    ap.add_argument("--write-draw", type=int, metavar="SEED")
    args = ap.parse_args()
    if args.write_draw is not None:
        write_draw(args.data, args.write_draw)
        return
    torch.set_num_threads(2)
    model = load_encoder(DEFAULT_MODEL).model
    base = copy.deepcopy(model.state_dict())
    ftexts, flabels = read(args.data / f"{args.faq}.csv")
    classes = sorted(set(flabels))
    idx = {c: i for i, c in enumerate(classes)}
    rows = np.array([idx[c] for c in flabels])
    groups = [[t for t, r in zip(ftexts, rows) if r == c] for c in range(len(classes))]
    qnames = ["clinc150_calib", "clinc150_check"] if args.clinc else args.queries
    qsets = {}
    for name in qnames:
        qt, ql = read(args.data / f"{name}.csv")
        qsets[name] = (qt, np.array([idx.get(c, -1) if c else -1 for c in ql]))

    def encode(texts):
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    for spec in args.tries:
        model.load_state_dict(base)
        t = time.perf_counter()
        report = {"steps": 0}
        if spec != "none":
            report = adapt(model, groups, parse(spec, AdaptConfig())).report
        train_s = time.perf_counter() - t
        fv = encode(ftexts)
        out, res = [], {}
        for name, (qt, truth) in qsets.items():
            res[name], top1 = top3(score_all(fv, rows, len(classes), encode(qt), HeadConfig()), truth)
            out.append(f"{name} top1 {top1:.4f}")
        if args.clinc:
            _, m, _ = clinc_check(res, classes)
            out.append(f"check@calib ac {m['answered_correct']:.3f} wrong {m['wrong']:.3f} oos {m['oos_rejected']:.3f}")
        print(f"[{spec or 'default'}] steps {report['steps']} train {train_s:.0f}s | " + " | ".join(out), flush=True)


if __name__ == "__main__":
    main()
