#!/usr/bin/env python3
"""Cache base-model embeddings of the prepared evaluation CSVs (for method experiments).

Writes .cache/kb-exp/<csv stem>.npz with texts, labels and unit vectors, so experiments on
heads/adapters over frozen embeddings run in seconds instead of re-encoding.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from knowledge_base.encoder import DEFAULT_MODEL, load_encoder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(".cache/kb-data"))
    parser.add_argument("--out", type=Path, default=Path(".cache/kb-exp"))
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(args.model)
    for path in sorted(args.data.glob("*.csv")):
        target = args.out / f"{path.stem}.npz"
        if target.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        text_key = "question" if "question" in rows[0] else "text"
        texts = [r[text_key] for r in rows]
        labels = [r["faq_id"] for r in rows]
        vectors = encoder.encode(texts, batch_size=64, progress=True)
        np.savez(target, texts=np.array(texts, dtype=object), labels=np.array(labels, dtype=object), vectors=vectors)
        print(target, vectors.shape, flush=True)


if __name__ == "__main__":
    main()
