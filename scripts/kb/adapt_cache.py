#!/usr/bin/env python3
"""Adapt the encoder to one FAQ CSV, then cache embeddings of that FAQ and its query files.

Development tool for comparing methods on adapted embeddings (see experiments.py --emb).
Example: adapt_cache.py banking77_faq10 banking77_queries --tag b10
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from knowledge_base.adaptation import AdaptConfig, adapt
from knowledge_base.encoder import DEFAULT_MODEL, load_encoder


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    key = "question" if "question" in rows[0] else "text"
    return [r[key] for r in rows], [r["faq_id"] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("faq")
    parser.add_argument("queries", nargs="+")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--data", type=Path, default=Path(".cache/kb-data"))
    parser.add_argument("--set", action="append", default=[], help="AdaptConfig field=value")
    args = parser.parse_args()
    config = AdaptConfig()
    for item in args.set:
        key, value = item.split("=", 1)
        config = replace(config, **{key: type(getattr(config, key))(value)})
    out = Path(".cache/kb-exp") / args.tag
    out.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(DEFAULT_MODEL)
    texts, labels = read(args.data / f"{args.faq}.csv")
    groups = defaultdict(list)
    for t, l in zip(texts, labels):
        groups[l].append(t)
    started = time.perf_counter()
    report = adapt(encoder.model, list(groups.values()), config, progress=True).report
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["config"] = config.__dict__
    (out / "report.json").write_text(json.dumps(report, indent=1))
    print(report, flush=True)
    for name in [args.faq, *args.queries]:
        t, l = read(args.data / f"{name}.csv")
        v = encoder.encode(t, batch_size=64)
        np.savez(out / f"{name}.npz", texts=np.array(t, dtype=object), labels=np.array(l, dtype=object), vectors=v)


if __name__ == "__main__":
    main()
