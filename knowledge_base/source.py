"""Reading and writing FAQ content: YAML sources, CSV import/export, evaluation CSVs.

One CSV shape serves both the evaluation interchange format and import/export:
`faq_id,question,answer[,category,tags,language]`, one row per phrasing. The first row of
an id carries the canonical question and the answer; later rows are extra phrasings whose
answer may stay empty. Tags are separated by `;`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from .records import FaqEntry
from .validation import (
    ID_PATTERN,
    FaqValidationError,
    Problem,
    check_collection,
    check_yaml_text,
    display_path,
)

logger = logging.getLogger(__name__)

YAML_SUFFIXES = (".yml", ".yaml")
CSV_REQUIRED = ("faq_id", "question")
CSV_OPTIONAL = ("answer", "category", "tags", "language")


def yaml_files(faq_dir: Path) -> list[Path]:
    """FAQ source files in a stable order (hidden files and editor backups ignored)."""
    if not faq_dir.is_dir():
        return []
    return sorted(
        p for p in faq_dir.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def check_faq_files(
    files: Sequence[Path], replaced: Mapping[Path, str] | None = None
) -> tuple[list[tuple[FaqEntry, str, int]], list[Problem]]:
    """Entries (with file and line) and every problem of these files taken together.

    ``replaced`` maps resolved paths to the text they would have after an edit, so an
    edit is validated exactly as the folder will load before it is written."""
    replaced = replaced or {}
    located: list[tuple[FaqEntry, str, int]] = []
    problems: list[Problem] = []
    for path in files:
        name = display_path(path)
        text = replaced.get(path.resolve())
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(name, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
                continue
        entries, file_problems = check_yaml_text(text, name)
        problems += file_problems
        located += [(entry, name, line) for entry, line in entries]
    return located, problems + check_collection(located)


def load_faq_dir(faq_dir: Path) -> list[FaqEntry]:
    """All entries of a FAQ folder, or FaqValidationError listing every problem."""
    faq_dir = Path(faq_dir)
    files = yaml_files(faq_dir)
    if not files:
        raise FaqValidationError([Problem(display_path(faq_dir), None, "no FAQ files (*.yml) found")])
    located, problems = check_faq_files(files)
    if problems:
        raise FaqValidationError(problems)
    logger.debug("loaded %d FAQs from %d files in %s", len(located), len(files), faq_dir)
    return [entry for entry, _, _ in located]


def load_faq_csv(path: Path, *, strict: bool = False) -> list[FaqEntry]:
    """Entries from a CSV (interchange or export format).

    strict=False is for evaluation files: any non-empty id is accepted and answers may be
    missing, because the graders' ids are not ours to rename. strict=True applies the same
    rules as YAML sources (used by import-csv).
    """
    name = display_path(Path(path))
    problems: list[Problem] = []
    order: list[str] = []
    rows_by_id: dict[str, list[tuple[int, dict[str, str]]]] = {}
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in CSV_REQUIRED if c not in header]
            unknown = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL]
            if missing:
                raise FaqValidationError([Problem(name, 1, f"missing column(s) {', '.join(missing)} (header: faq_id,question,answer)")])
            if unknown and strict:
                problems.append(Problem(name, 1, f"unknown column(s) {', '.join(unknown)}"))
            for row in reader:
                line = reader.line_num
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
                faq_id = row.get("faq_id", "")
                if not faq_id:
                    problems.append(Problem(name, line, "faq_id is empty"))
                    continue
                if not row.get("question"):
                    problems.append(Problem(name, line, "question is empty"))
                    continue
                if faq_id not in rows_by_id:
                    order.append(faq_id)
                    rows_by_id[faq_id] = []
                rows_by_id[faq_id].append((line, row))
    except UnicodeDecodeError as exc:
        raise FaqValidationError([Problem(name, None, f"not UTF-8 text ({exc.reason})")]) from None
    except csv.Error as exc:
        raise FaqValidationError([Problem(name, None, f"not valid CSV: {exc}")]) from None

    entries: list[FaqEntry] = []
    located: list[tuple[FaqEntry, str, int]] = []
    for faq_id in order:
        rows = rows_by_id[faq_id]
        first_line, first = rows[0]
        answer = next((r["answer"] for _, r in rows if r.get("answer")), "")
        if strict:
            if not ID_PATTERN.match(faq_id):
                problems.append(Problem(name, first_line, f"id {faq_id!r} may only use a-z, 0-9, '_', '.', '-'"))
            if not answer:
                problems.append(Problem(name, first_line, f"FAQ {faq_id!r} has no answer"))
        entry = FaqEntry(
            id=faq_id,
            question=first["question"],
            answer=answer,
            phrasings=[r["question"] for _, r in rows[1:]],
            category=first.get("category", ""),
            tags=[t.strip() for t in first.get("tags", "").split(";") if t.strip()],
            language=first.get("language") or "en",
        )
        entries.append(entry)
        located.append((entry, name, first_line))
    if strict:
        problems += check_collection(located)
    if problems:
        raise FaqValidationError(problems)
    if not entries:
        raise FaqValidationError([Problem(name, None, "no FAQ rows")])
    return entries


def write_faq_csv(entries: Iterable[FaqEntry], path: Path) -> int:
    """Export: one row per phrasing; returns the number of rows written."""
    rows = 0
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*CSV_REQUIRED, *CSV_OPTIONAL])
        for entry in entries:
            tags = ";".join(entry.tags)
            writer.writerow([entry.id, entry.question, entry.answer, entry.category, tags, entry.language])
            rows += 1
            for phrasing in entry.phrasings:
                writer.writerow([entry.id, phrasing, "", "", "", ""])
                rows += 1
    return rows


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line answers as `|` blocks so the YAML stays pleasant to edit by hand."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_presenter)


def dump_faq_yaml(entries: Iterable[FaqEntry]) -> str:
    items = []
    for entry in entries:
        item = {"id": entry.id, "question": entry.question}
        if entry.phrasings:
            item["phrasings"] = list(entry.phrasings)
        answer = entry.answer if entry.answer.endswith("\n") or "\n" not in entry.answer else entry.answer + "\n"
        item["answer"] = answer
        if entry.category:
            item["category"] = entry.category
        if entry.tags:
            item["tags"] = list(entry.tags)
        if entry.language != "en":
            item["language"] = entry.language
        items.append(item)
    return yaml.dump(
        {"version": 1, "faqs": items}, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=100
    )


def content_hash(entries: Iterable[FaqEntry]) -> str:
    """Order-independent hash of everything an index is built from (and serves)."""
    canonical = sorted((e.to_dict() for e in entries), key=lambda d: d["id"])
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load_queries_csv(path: Path) -> list[tuple[str, str | None]]:
    """Labelled queries `text,faq_id`; an empty faq_id means out of scope (None)."""
    name = display_path(Path(path))
    out: list[tuple[str, str | None]] = []
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            if "text" not in header or "faq_id" not in header:
                raise FaqValidationError([Problem(name, 1, "query file needs the header text,faq_id")])
            for row in reader:
                row = {(k or "").strip(): (v or "") for k, v in row.items() if k is not None}
                text = row.get("text", "").strip()
                if not text:
                    continue
                out.append((text, row.get("faq_id", "").strip() or None))
    except UnicodeDecodeError as exc:
        raise FaqValidationError([Problem(name, None, f"not UTF-8 text ({exc.reason})")]) from None
    if not out:
        raise FaqValidationError([Problem(name, None, "no queries")])
    return out
