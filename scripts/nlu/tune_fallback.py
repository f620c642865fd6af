"""Measure Rasa's FallbackClassifier thresholds on our data and print the trade-off.

Run in the Rasa environment (it trains real Rasa NLU models with our config.yml):

    .venv-rasa/bin/python scripts/nlu/tune_fallback.py [--folds 5] [--json out.json]

What it does:
- trains our NLU pipeline without the FallbackClassifier, so every message gets its raw
  top-1 and top-2 confidence, (a) on k stratified folds of data/nlu (each example is
  predicted by the model that did not see it) and (b) on all of data/nlu, predicting the
  held-out data/faq_eval/nlu_test.yml;
- predicts out-of-scope text with every model: CLINC150 oos_val queries (not in our
  training data), keyboard mash generated here (seeded), and sentences in other languages
  (scripts/nlu/other_languages.txt);
- for each (threshold, ambiguity threshold) prints what the dialogue would do.

The dialogue sends faq, out_of_scope and nlu_fallback to the same place (the FAQ search,
which can still say "I don't know"), so a fallback on a question costs nothing; what
matters is the *route*. Columns:
- in-scope routed: held-out in-scope messages that reach the right route (a dialogue
  intent such as request_human or affirm must be recognised; a question may fall back);
- dialogue kept: the same, counting only messages of the dialogue intents (not faq/oos);
- OOS safe (clinc, mash, foreign): out-of-scope text that does *not* trigger a dialogue
  intent (affirm, deny, greet, complaint, request_human...), i.e. goes to the FAQ search;
- fell back: out-of-scope text that became nlu_fallback.
The recommendation (on the held-out set) maximises the mean OOS safe share while keeping
in-scope routed within 1.5 points and dialogue kept within 2 points of their best.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import string
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
CLINC = PROJECT.parent / "shared" / "datasets" / "clinc150" / "dev.json"
FAQ_SEARCH_INTENTS = frozenset({"faq", "out_of_scope", "nlu_fallback"})
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(13)]  # 0.20 .. 0.80
AMBIGUITIES = [0.0, 0.05, 0.1, 0.15]


@dataclass(frozen=True)
class Scored:
    text: str
    truth: str  # an intent, or "oos:<set>" for out-of-scope text
    top: str
    confidence: float
    second: float


def keyboard_mash(count: int, seed: int) -> list[str]:
    """Strings like customers' accidental or angry typing: key runs, random letters,
    repeated syllables, a few digits and punctuation."""
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        words = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.4:
                row = rng.choice(rows[:3])
                start = rng.randrange(len(row) - 2)
                words.append(row[start:start + rng.randint(2, len(row) - start)])
            elif kind < 0.8:
                words.append("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 8))))
            elif kind < 0.9:
                words.append(rng.choice(["ha", "la", "bla", "zz", "xd", "jk", "hm"]) * rng.randint(2, 4))
            else:
                words.append("".join(rng.choice("!?.,;:#*") for _ in range(rng.randint(1, 4))))
        text = " ".join(words)
        if rng.random() < 0.2:
            text = text.upper()
        out.append(text)
    return out


def other_languages() -> list[str]:
    path = PROJECT / "scripts" / "nlu" / "other_languages.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def clinc_oos() -> list[str]:
    return [text for text, _ in json.loads(CLINC.read_text())["oos_val"]]


def out_of_scope_sets() -> dict[str, list[str]]:
    return {"clinc": clinc_oos(), "mash": keyboard_mash(150, seed=7), "foreign": other_languages()}


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def config_without_fallback(directory: Path) -> Path:
    config = yaml.safe_load((PROJECT / "config.yml").read_text())
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "FallbackClassifier"]
    config["policies"] = []
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def write_nlu(examples: list[tuple[str, str]], path: Path) -> None:
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {t}" for t in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def score(model_path: str, items: list[tuple[str, str]]) -> list[Scored]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    scored = []
    for text, truth in items:
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or [parsed["intent"]]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        scored.append(Scored(text, truth, parsed["intent"]["name"], parsed["intent"]["confidence"], second))
    return scored


def train(examples: list[tuple[str, str]], work: Path, name: str) -> str:
    from rasa.model_training import train_nlu

    nlu = work / f"{name}.yml"
    write_nlu(examples, nlu)
    result = train_nlu(str(config_without_fallback(work)), str(nlu), str(work / "models"), fixed_model_name=name)
    if not result:
        raise RuntimeError(f"training {name} failed")
    return str(result)


def route(intent: str) -> str:
    return "faq_search" if intent in FAQ_SEARCH_INTENTS else intent


def predicted(s: Scored, threshold: float, ambiguity: float) -> str:
    if s.confidence < threshold or (ambiguity > 0 and s.confidence - s.second < ambiguity):
        return "nlu_fallback"
    return s.top


def table(results: list[Scored]) -> list[dict[str, Any]]:
    in_scope = [s for s in results if not s.truth.startswith("oos:")]
    dialogue = [s for s in in_scope if route(s.truth) != "faq_search"]
    oos_sets = sorted({s.truth for s in results if s.truth.startswith("oos:")})
    rows = []
    for ambiguity in AMBIGUITIES:
        for threshold in THRESHOLDS:
            row: dict[str, Any] = {"threshold": threshold, "ambiguity": ambiguity}
            row["in_scope_routed"] = sum(route(predicted(s, threshold, ambiguity)) == route(s.truth)
                                         for s in in_scope) / len(in_scope)
            row["dialogue_kept"] = sum(predicted(s, threshold, ambiguity) == s.truth
                                       for s in dialogue) / len(dialogue)
            for name in oos_sets:
                items = [s for s in results if s.truth == name]
                row[f"safe_{name[4:]}"] = sum(route(predicted(s, threshold, ambiguity)) == "faq_search"
                                              for s in items) / len(items)
                row[f"fellback_{name[4:]}"] = sum(predicted(s, threshold, ambiguity) == "nlu_fallback"
                                                  for s in items) / len(items)
            safe = [row[f"safe_{n[4:]}"] for n in oos_sets]
            row["oos_safe_mean"] = sum(safe) / len(safe)
            rows.append(row)
    return rows


def recommend(rows: list[dict[str, Any]], routed_slack: float = 0.015, kept_slack: float = 0.02) -> dict[str, Any]:
    best_routed = max(r["in_scope_routed"] for r in rows)
    best_kept = max(r["dialogue_kept"] for r in rows)
    eligible = [r for r in rows if r["in_scope_routed"] >= best_routed - routed_slack
                and r["dialogue_kept"] >= best_kept - kept_slack]
    # Among equals prefer the lower threshold (fewer real answers lost).
    return max(eligible, key=lambda r: (round(r["oos_safe_mean"], 4), -r["threshold"], -r["ambiguity"]))


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    header = ["thr", "amb", "in-scope routed", "dialogue kept", "safe clinc", "safe mash",
              "safe foreign", "fell back clinc/mash/foreign"]
    print(" | ".join(header))
    for r in rows:
        if r["ambiguity"] not in (0.0, 0.1) and r["threshold"] not in (0.3, 0.5, 0.6):
            continue
        print(" | ".join([
            f"{r['threshold']:.2f}", f"{r['ambiguity']:.2f}", f"{r['in_scope_routed']:.3f}",
            f"{r['dialogue_kept']:.3f}", f"{r['safe_clinc']:.3f}", f"{r['safe_mash']:.3f}",
            f"{r['safe_foreign']:.3f}",
            f"{r['fellback_clinc']:.2f}/{r['fellback_mash']:.2f}/{r['fellback_foreign']:.2f}",
        ]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the rows and raw scores here")
    args = parser.parse_args()

    from sklearn.model_selection import StratifiedKFold

    examples = nlu_examples(PROJECT / "data" / "nlu")
    held_out = nlu_examples(PROJECT / "data" / "faq_eval" / "nlu_test.yml")
    oos = [(text, f"oos:{name}") for name, texts in out_of_scope_sets().items() for text in texts]
    print(f"{len(examples)} training examples, {len(held_out)} held-out, "
          + ", ".join(f"{n}: {len(t)}" for n, t in out_of_scope_sets().items()), flush=True)

    cv_scores: list[Scored] = []
    holdout_scores: list[Scored] = []
    with tempfile.TemporaryDirectory(prefix="helpline-nlu-") as tmp:
        work = Path(tmp)
        folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=13)
        labels = [intent for _, intent in examples]
        for number, (train_idx, test_idx) in enumerate(folds.split(examples, labels)):
            model = train([examples[i] for i in train_idx], work, f"fold{number}")
            test = [examples[i] for i in test_idx]
            # Each fold's model sees every out-of-scope text; scores are pooled over folds.
            cv_scores += asyncio.run(score(model, test + oos))
            print(f"fold {number + 1}/{args.folds} done", flush=True)
        model = train(examples, work, "all")
        holdout_scores = asyncio.run(score(model, held_out + oos))

    cv_rows, holdout_rows = table(cv_scores), table(holdout_scores)
    print_table(f"{args.folds}-fold cross-validation of data/nlu (+ out-of-scope sets, pooled)", cv_rows)
    print_table("trained on all of data/nlu, tested on data/faq_eval/nlu_test.yml (+ out-of-scope sets)", holdout_rows)
    choice = recommend(holdout_rows)
    cv_choice = next(r for r in cv_rows if r["threshold"] == choice["threshold"] and r["ambiguity"] == choice["ambiguity"])
    print(f"\nrecommended: threshold {choice['threshold']:.2f}, ambiguity_threshold {choice['ambiguity']:.2f}")
    for label, row in (("held-out", choice), ("cross-validation", cv_choice)):
        print(f"  {label}: in-scope routed {row['in_scope_routed']:.3f}, dialogue intents kept "
              f"{row['dialogue_kept']:.3f}, OOS safe clinc {row['safe_clinc']:.3f} / mash "
              f"{row['safe_mash']:.3f} / foreign {row['safe_foreign']:.3f}")
    print("  held-out dialogue intents kept, per intent:")
    for intent in sorted({s.truth for s in holdout_scores if not s.truth.startswith("oos:")} - FAQ_SEARCH_INTENTS):
        items = [s for s in holdout_scores if s.truth == intent]
        kept = sum(predicted(s, choice["threshold"], choice["ambiguity"]) == intent for s in items)
        print(f"    {intent:14} {kept}/{len(items)}")
    worst = [s for s in holdout_scores if s.truth.startswith("oos:")
             and route(predicted(s, choice["threshold"], choice["ambiguity"])) != "faq_search"]
    if worst:
        print("  out-of-scope text still taken as a dialogue intent:")
        for s in worst[:15]:
            print(f"    {s.truth[4:]:8} {s.top:14} {s.confidence:.2f}  {s.text[:60]!r}")
    if args.json:
        args.json.write_text(json.dumps({
            "cv": cv_rows, "holdout": holdout_rows,
            "choice": {"threshold": choice["threshold"], "ambiguity": choice["ambiguity"]},
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
