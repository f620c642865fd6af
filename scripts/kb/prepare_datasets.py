#!/usr/bin/env python3
"""Write the knowledge-base evaluation CSVs from the shared development datasets.

Output (default `.cache/kb-data/`, git-ignored) uses the evaluation interchange format:
FAQ files `faq_id,question,answer` (one row per phrasing) and query files `text,faq_id`
(empty faq_id = out of scope).

The graders evaluate on test splits we do not have, so every file here that is used to
*check* a method is carved out of the development data and never used to tune it:

banking77 (train.csv only; 20% of every intent held out as queries, seed 13)
  banking77_faq10.csv        10 phrasings per intent, from the non-held-out 80%
  banking77_faqall.csv       all non-held-out phrasings
  banking77_queries.csv      the held-out 20% (in scope only)
  banking77_open_faq10.csv   like faq10 but only 60 of the 77 intents ...
  banking77_open_queries.csv ... queries from all 77: the other 17 intents are near-domain
                             out-of-scope (the hardest realistic case for rejection)

clinc150 (dev.json: train, val, oos_train, oos_val)
  clinc150_faq.csv           train as FAQ (what the graders do)
  clinc150_dev.csv           val + oos_val (what the graders calibrate on)
  clinc150_calib.csv         half of val (per intent) + oos_val   -> calibrate on this ...
  clinc150_check.csv         other half of val + oos_train         ... check on this
                             (oos_train is never seen by calibration)
  clinc_oos.csv              oos_val + oos_train: out-of-scope questions for the demo FAQ

bitext (customer-support sample; never used for tuning, only to check shipped defaults)
  bitext_open_faq.csv        20 of 27 intents, 10 phrasings each, answer = a real response
  bitext_open_queries.csv    30 other utterances of each of those intents + 30 of each of
                             the 7 other intents as out-of-scope
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import defaultdict
from pathlib import Path

DATASETS = Path("/work/shared/datasets")


def _write_faq(path: Path, groups: dict[str, list[str]], answers: dict[str, str] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["faq_id", "question", "answer"])
        for faq_id, texts in groups.items():
            for i, text in enumerate(texts):
                answer = (answers or {}).get(faq_id, f"Answer for {faq_id}.") if i == 0 else ""
                writer.writerow([faq_id, text, answer])


def _write_queries(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "faq_id"])
        writer.writerows(rows)


def prepare_banking77(out: Path, rng: random.Random) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (DATASETS / "banking77" / "train.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"].strip())
    faq10, faqall, queries = {}, {}, []
    for intent in sorted(by_intent):
        texts = by_intent[intent][:]
        rng.shuffle(texts)
        n_hold = max(1, round(len(texts) * 0.2))
        held, kept = texts[:n_hold], texts[n_hold:]
        faq10[intent], faqall[intent] = kept[:10], kept
        queries += [(t, intent) for t in held]
    _write_faq(out / "banking77_faq10.csv", faq10)
    _write_faq(out / "banking77_faqall.csv", faqall)
    _write_queries(out / "banking77_queries.csv", queries)

    intents = sorted(by_intent)
    rng.shuffle(intents)
    inside = set(intents[:60])
    _write_faq(out / "banking77_open_faq10.csv", {k: v for k, v in faq10.items() if k in inside})
    _write_queries(
        out / "banking77_open_queries.csv",
        [(t, i if i in inside else "") for t, i in queries],
    )


def prepare_clinc150(out: Path, rng: random.Random) -> None:
    data = json.loads((DATASETS / "clinc150" / "dev.json").read_text(encoding="utf-8"))
    train: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        train[intent].append(text)
    _write_faq(out / "clinc150_faq.csv", dict(sorted(train.items())))
    oos_val = [(t, "") for t, _ in data["oos_val"]]
    oos_train = [(t, "") for t, _ in data["oos_train"]]
    _write_queries(out / "clinc150_dev.csv", [(t, i) for t, i in data["val"]] + oos_val)

    val: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["val"]:
        val[intent].append(text)
    calib, check = [], []
    for intent in sorted(val):
        texts = val[intent][:]
        rng.shuffle(texts)
        half = len(texts) // 2
        calib += [(t, intent) for t in texts[:half]]
        check += [(t, intent) for t in texts[half:]]
    _write_queries(out / "clinc150_calib.csv", calib + oos_val)
    _write_queries(out / "clinc150_check.csv", check + oos_train)
    # Every out-of-scope text of the dev data, as questions the demo shop's FAQ cannot answer.
    _write_queries(out / "clinc_oos.csv", sorted(set(oos_val + oos_train)))


def prepare_bitext(out: Path, rng: random.Random) -> None:
    by_intent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    path = DATASETS / "bitext-customer-support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["intent"]].append((row["instruction"].strip(), row["response"].strip()))
    intents = sorted(by_intent)
    rng.shuffle(intents)
    inside, outside = intents[:20], intents[20:]
    faq, answers, queries = {}, {}, []
    for intent in inside:
        rows = by_intent[intent][:]
        rng.shuffle(rows)
        faq[intent] = [t for t, _ in rows[:10]]
        answers[intent] = rows[0][1]
        queries += [(t, intent) for t, _ in rows[10:40]]
    for intent in outside:
        rows = by_intent[intent][:]
        rng.shuffle(rows)
        queries += [(t, "") for t, _ in rows[:30]]
    _write_faq(out / "bitext_open_faq.csv", faq, answers)
    _write_queries(out / "bitext_open_queries.csv", queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".cache/kb-data"))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    prepare_banking77(args.out, random.Random(args.seed))
    prepare_clinc150(args.out, random.Random(args.seed))
    prepare_bitext(args.out, random.Random(args.seed))
    for path in sorted(args.out.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            print(f"{path}  {sum(1 for _ in fh) - 1} rows")


if __name__ == "__main__":
    main()
