#!/usr/bin/env python3
"""Cache the adapted encoder's query vectors of the prepared evaluation sets.

For decision-policy experiments (answer / suggest / fallback rules over scores): builds or
reuses each set's index exactly as `kb eval` does (var/kb-eval/<content hash>) and writes
.cache/kb-exp/adapted/<queries>.npz with texts, labels and the query vectors, so a rule can
be re-scored on every set in seconds. `demo` is the FAQ folder with data/faq_eval.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from knowledge_base.facade import KnowledgeBase
from knowledge_base.source import content_hash, load_faq_csv, load_queries_csv

DATA = Path(".cache/kb-data")
# HELPLINE_KB_ADAPT=0 (frozen encoder, a much cheaper build) gets its own cache and index folders.
FROZEN = os.environ.get("HELPLINE_KB_ADAPT", "").strip() == "0"
OUT = Path(".cache/kb-exp/frozen" if FROZEN else ".cache/kb-exp/adapted")
SETS = {
    "demo": (None, Path("data/faq_eval/queries.csv")),
    "demo_bitext": (None, Path("data/faq_eval/bitext_heldout.csv")),
    "demo_clinc_oos": (None, DATA / "clinc_oos.csv"),  # CLINC150 oos_val + oos_train against the demo FAQ
    "bitext_open": (DATA / "bitext_open_faq.csv", DATA / "bitext_open_queries.csv"),
    "banking77_open": (DATA / "banking77_open_faq10.csv", DATA / "banking77_open_queries.csv"),
    "clinc150_dev": (DATA / "clinc150_faq.csv", DATA / "clinc150_dev.csv"),
    "clinc150_check": (DATA / "clinc150_faq.csv", DATA / "clinc150_check.csv"),
    "banking77_10": (DATA / "banking77_faq10.csv", DATA / "banking77_queries.csv"),
}


def open_kb(faq: Path | None) -> KnowledgeBase:
    if faq is None:
        return KnowledgeBase.open(faq_dir=Path("data/faq"), index_dir=index_dir_of("demo"), progress=True)
    return KnowledgeBase.from_entries(load_faq_csv(faq), index_dir=_eval_dir(faq), progress=True)


def _eval_dir(faq: Path) -> Path:
    return Path("var/kb-eval") / (content_hash(load_faq_csv(faq))[:16] + ("-frozen" if FROZEN else ""))


def index_dir_of(name: str) -> Path:
    faq, _ = SETS[name]
    if faq is None:
        return Path("var/kb-frozen" if FROZEN else "var/kb")
    return _eval_dir(faq)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=list(SETS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        faq, queries = SETS[name]
        kb = open_kb(faq)
        labelled = load_queries_csv(queries)
        texts = [t for t, _ in labelled]
        vectors = kb._snapshot.encoder.encode(texts, batch_size=64, progress=True)
        labels = np.array([e or "" for _, e in labelled], dtype=object)
        np.savez(OUT / f"{name}.npz", texts=np.array(texts, dtype=object), labels=labels, vectors=vectors,
                 index_version=kb.manifest.version)
        print(name, vectors.shape, kb.manifest.version, flush=True)


if __name__ == "__main__":
    main()
