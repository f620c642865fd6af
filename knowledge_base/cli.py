"""`helpline kb ...` / `python -m knowledge_base ...`: build, search, evaluate, calibrate, bench.

Errors a user can fix (bad FAQ files, missing model, unreadable thresholds) are printed as
plain messages with exit code 1, never as tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .encoder import DEFAULT_MODEL, ModelNotAvailableError
from .policy import ThresholdsError
from .validation import FaqValidationError

logger = logging.getLogger(__name__)

ENV_FAQ_DIR = "HELPLINE_FAQ_DIR"
ENV_INDEX_DIR = "HELPLINE_KB_INDEX_DIR"
ENV_MODEL = "HELPLINE_EMBEDDING_MODEL"
ENV_THRESHOLDS = "HELPLINE_KB_THRESHOLDS"
ENV_EVAL_DIR = "HELPLINE_KB_EVAL_DIR"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--faq-dir", type=Path, default=Path(os.environ.get(ENV_FAQ_DIR, "data/faq")),
                        help=f"FAQ YAML folder (env {ENV_FAQ_DIR}; default data/faq)")
    common.add_argument("--index-dir", type=Path, default=Path(os.environ.get(ENV_INDEX_DIR, "var/kb")),
                        help=f"index folder (env {ENV_INDEX_DIR}; default var/kb)")
    common.add_argument("--model", default=os.environ.get(ENV_MODEL, DEFAULT_MODEL),
                        help=f"embedding model: packaged name, local path or cached name (env {ENV_MODEL})")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    common.add_argument("--no-progress", action="store_true", help="hide progress bars")

    parser = argparse.ArgumentParser(prog="helpline kb", description="Helpline FAQ knowledge base")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", parents=[common], help="check the FAQ sources")

    p = sub.add_parser("build", parents=[common], help="build the index (no-op when nothing changed)")
    p.add_argument("--force", action="store_true", help="rebuild even if content and model are unchanged")

    p = sub.add_parser("search", parents=[common], help="answer one query and print its trail")
    p.add_argument("text")
    p.add_argument("--thresholds", type=Path, default=_env_path(ENV_THRESHOLDS))
    p.add_argument("--answer", action="store_true", help="also print the answer text")

    for name, helptext in (("eval", "evaluate on labelled queries"), ("calibrate", "choose thresholds from dev data")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("--faq", type=Path, help="FAQ CSV (faq_id,question,answer); default: the FAQ folder")
        p.add_argument("--queries", type=Path, required=True, help="labelled queries CSV (text,faq_id)")
        p.add_argument("--work-dir", type=Path, default=Path(os.environ.get(ENV_EVAL_DIR, "var/kb-eval")),
                       help="where indexes of --faq files are cached")
        if name == "eval":
            p.add_argument("--thresholds", type=Path, default=_env_path(ENV_THRESHOLDS),
                           help="thresholds JSON (default: shipped defaults)")
            p.add_argument("--json", action="store_true", help="print only the JSON summary")
            p.add_argument("--errors", type=Path, help="write the misanswered queries to this CSV")
        else:
            p.add_argument("--out", type=Path, required=True, help="thresholds JSON to write")
            p.add_argument("--max-wrong", type=float, default=0.10, help="cap on wrong answers / answers")
            p.add_argument("--objective", choices=("balanced", "accuracy"), default="balanced")
            p.add_argument("--suggest-recall", type=float, default=0.9)

    p = sub.add_parser("conflicts", parents=[common],
                       help="phrasings closer to another FAQ than to their own (overlapping FAQs)")
    p.add_argument("--margin", type=float, help="also list phrasings whose own FAQ wins by less than this "
                   "(default: the answer policy's margin)")
    p.add_argument("--thresholds", type=Path, default=_env_path(ENV_THRESHOLDS),
                   help="thresholds JSON whose margin is the default (default: shipped defaults)")
    p.add_argument("--limit", type=int, default=50, help="phrasings (worst first) and FAQ pairs listed; 0 = all")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--strict", action="store_true",
                   help="exit 3 when a phrasing is closer to another FAQ (for checks on FAQ changes)")

    p = sub.add_parser("bench", parents=[common], help="index benchmark on synthetic entries")
    p.add_argument("--sizes", default="1000,10000,100000,1000000")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("import-csv", parents=[common], help="convert a FAQ CSV to a YAML source file")
    p.add_argument("csv", type=Path)
    p.add_argument("--out", type=Path, help="YAML file to write (default: FAQ folder/<csv name>.yml)")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("export-csv", parents=[common], help="write the FAQ folder as one CSV")
    p.add_argument("--out", type=Path, required=True)
    return parser


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose < 2:
        for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "faiss"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    progress = not args.no_progress
    try:
        return _COMMANDS[args.command](args, progress)
    except FaqValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (ModelNotAvailableError, ThresholdsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: a message, not a traceback
        from .facade import KnowledgeBaseUnavailable
        from .store import IndexLoadError

        if isinstance(exc, (KnowledgeBaseUnavailable, IndexLoadError, ValueError)):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


def _cmd_validate(args: argparse.Namespace, progress: bool) -> int:
    from .source import load_faq_dir, yaml_files

    entries = load_faq_dir(args.faq_dir)
    n_phrasings = sum(len(e.texts()) for e in entries)
    print(f"OK: {len(entries)} FAQs ({n_phrasings} phrasings) in {len(yaml_files(args.faq_dir))} files under {args.faq_dir}")
    return 0


def _cmd_build(args: argparse.Namespace, progress: bool) -> int:
    from .builder import build_index

    manifest = build_index(args.faq_dir, args.index_dir, args.model, progress=progress, force=args.force)
    print(f"index {manifest.version}: {manifest.n_faqs} FAQs, {manifest.n_vectors} vectors, "
          f"model {manifest.model}, {manifest.index_kind}, built in {manifest.build_seconds}s -> {args.index_dir}")
    return 0


def _cmd_search(args: argparse.Namespace, progress: bool) -> int:
    from .facade import KnowledgeBase

    kb = KnowledgeBase.open(faq_dir=args.faq_dir, index_dir=args.index_dir, model=args.model,
                            thresholds=args.thresholds, progress=progress)
    decision = kb.answer(args.text)
    print(json.dumps(decision.trail(), ensure_ascii=False, indent=2))
    if args.answer and decision.faq is not None:
        print(decision.faq.answer)
    return 0


def _eval_kb(args: argparse.Namespace, progress: bool, thresholds: Path | None):
    from .facade import KnowledgeBase
    from .source import content_hash, load_faq_csv

    if args.faq is None:
        return KnowledgeBase.open(faq_dir=args.faq_dir, index_dir=args.index_dir, model=args.model,
                                  thresholds=thresholds, progress=progress)
    entries = load_faq_csv(args.faq)
    index_dir = args.work_dir / content_hash(entries)[:16]
    return KnowledgeBase.from_entries(entries, index_dir=index_dir, model=args.model, thresholds=thresholds,
                                      progress=progress)


def _cmd_eval(args: argparse.Namespace, progress: bool) -> int:
    from .evaluation import run_queries, summarise
    from .source import load_queries_csv

    queries = load_queries_csv(args.queries)
    kb = _eval_kb(args, progress, args.thresholds)
    outcomes = run_queries(kb, queries, progress=progress)
    summary = summarise(outcomes)
    summary["thresholds"] = {"answer": kb.thresholds.answer, "suggest": kb.thresholds.suggest,
                             "margin": kb.thresholds.margin, "source": kb.thresholds.source}
    summary["model"] = kb.model
    summary["index_version"] = kb.manifest.version
    if args.errors:
        import csv

        with args.errors.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "expected", "top", "rule", "score"])
            for (text, _), o in zip(queries, outcomes):
                if (o.rule == "answer" and o.top != o.expected) or (o.expected is not None and o.rule != "answer"):
                    writer.writerow([text, o.expected or "", o.top or "", o.rule, round(o.score, 4)])
    if not args.json:
        for key in ("n", "top1", "top3", "answered_correct", "wrong", "oos_rejected", "accuracy", "p50_ms", "p99_ms"):
            print(f"{key:>17}: {summary[key]}")
    print(json.dumps(summary))
    return 0


def _cmd_calibrate(args: argparse.Namespace, progress: bool) -> int:
    from .calibration import CalibrationInput, calibrate
    from .scoring import SCORE_NAME
    from .source import load_queries_csv

    queries = load_queries_csv(args.queries)
    kb = _eval_kb(args, progress, None)
    ranked = kb.rank_many([q for q, _ in queries], progress=progress)
    data = CalibrationInput([ids for ids, _ in ranked], [s for _, s in ranked], [e for _, e in queries])
    thresholds = calibrate(data, score_name=SCORE_NAME, max_wrong=args.max_wrong, objective=args.objective,
                           suggest_recall=args.suggest_recall)
    thresholds.write(args.out)
    print(f"thresholds -> {args.out}: answer {thresholds.answer}, margin {thresholds.margin}, "
          f"suggest {thresholds.suggest}; on the dev data: {json.dumps(thresholds.notes['dev_metrics'])}")
    return 0


def _cmd_conflicts(args: argparse.Namespace, progress: bool) -> int:
    from .conflicts import rival_pairs
    from .facade import KnowledgeBase

    if args.margin is not None and not 0 <= args.margin <= 2:
        print(f"error: --margin must be between 0 and 2, got {args.margin}", file=sys.stderr)
        return 1
    kb = KnowledgeBase.open(faq_dir=args.faq_dir, index_dir=args.index_dir, model=args.model,
                            thresholds=args.thresholds, progress=progress)
    report = kb.conflicts(margin=args.margin, progress=progress)
    limit = args.limit if args.limit > 0 else None
    if args.json:
        print(json.dumps(report.as_json(limit), ensure_ascii=False))
    else:
        found, closer = report.conflicts, report.closer_to_rival
        print(f"{closer} of {report.phrasings} phrasings sit closer to another FAQ than to their own; "
              f"{len(found) - closer} more win by less than the margin {report.margin} "
              "(each scored as a customer's question would be, left out of its own FAQ)")
        for c in found[:limit]:
            print(f"  {c.faq_id}: {c.phrasing!r} -> {c.rival_id}  own {c.own_score:.3f}  "
                  f"rival {c.rival_score:.3f}  ({c.margin:+.3f})")
        if limit is not None and len(found) > limit:
            print(f"  ... {len(found) - limit} more (--limit 0 lists all)")
        pairs = rival_pairs(found)
        if pairs:
            print("FAQs that overlap most (merge them, or make their phrasings say what differs):")
            for a, b, n in pairs[:10]:
                print(f"  {a} <-> {b}: {n} phrasing{'s' if n != 1 else ''}")
    return 3 if args.strict and report.closer_to_rival else 0


def _cmd_bench(args: argparse.Namespace, progress: bool) -> int:
    from .bench import run_one

    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print(f"error: --sizes must be comma-separated integers, got {args.sizes!r}", file=sys.stderr)
        return 1
    results = []
    if not args.json:
        print(f"{'size':>9} {'index':>12} {'build_s':>8} {'p50_ms':>7} {'p99_ms':>7} {'rss_mb':>8} {'peak_mb':>8} {'recall@1':>8}")
    for size in sizes:
        r = run_one(size, dim=args.dim, n_queries=args.queries, progress=progress)
        results.append(r.to_dict())
        if not args.json:
            print(f"{r.size:>9} {r.index_kind:>12} {r.build_s:>8} {r.p50_ms:>7} {r.p99_ms:>7} "
                  f"{r.rss_mb:>8} {r.peak_rss_mb:>8} {r.recall_at_1:>8}", flush=True)
    print(json.dumps({"bench": results}))
    return 0


def _cmd_import_csv(args: argparse.Namespace, progress: bool) -> int:
    from .source import dump_faq_yaml, load_faq_csv
    from .validation import check_yaml_text

    entries = load_faq_csv(args.csv, strict=True)
    out = args.out or args.faq_dir / f"{args.csv.stem}.yml"
    if out.exists() and not args.overwrite:
        print(f"error: {out} exists (use --overwrite)", file=sys.stderr)
        return 1
    text = dump_faq_yaml(entries)
    _, problems = check_yaml_text(text, str(out))  # what we write must pass our own validation
    if problems:
        raise FaqValidationError(problems)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"{len(entries)} FAQs -> {out}")
    return 0


def _cmd_export_csv(args: argparse.Namespace, progress: bool) -> int:
    from .source import load_faq_dir, write_faq_csv

    entries = load_faq_dir(args.faq_dir)
    rows = write_faq_csv(entries, args.out)
    print(f"{len(entries)} FAQs ({rows} rows) -> {args.out}")
    return 0


_COMMANDS = {
    "validate": _cmd_validate,
    "build": _cmd_build,
    "search": _cmd_search,
    "eval": _cmd_eval,
    "calibrate": _cmd_calibrate,
    "conflicts": _cmd_conflicts,
    "bench": _cmd_bench,
    "import-csv": _cmd_import_csv,
    "export-csv": _cmd_export_csv,
}


if __name__ == "__main__":
    sys.exit(main())
