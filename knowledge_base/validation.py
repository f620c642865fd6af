"""Validation of FAQ source files with file, line and reason for every problem.

We walk PyYAML's node tree (not the constructed Python objects) because only nodes keep
their line numbers, and a content editor needs "faq/orders.yml:14: answer is empty", not a
traceback. Problems are collected, never raised one by one, so a single run lists them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from .records import FaqEntry, phrasing_key

ID_PATTERN = re.compile(r"^[a-z0-9_.-]+$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
SUPPORTED_VERSIONS = {1}
TOP_LEVEL_FIELDS = {"version", "faqs"}
REQUIRED_FIELDS = ("id", "question", "answer")
OPTIONAL_FIELDS = ("phrasings", "category", "tags", "language")
ALL_FIELDS = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
# Phrasings beyond this length are almost certainly an answer pasted in the wrong field.
MAX_PHRASING_CHARS = 500

_STR_TAG = "tag:yaml.org,2002:str"
_TAG_NAMES = {
    "tag:yaml.org,2002:bool": "a yes/no value",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "nothing",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


class FaqValidationError(ValueError):
    """All problems found in the FAQ sources, reported together."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.reason))
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the FAQ sources:\n{lines}")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _TAG_NAMES.get(node.tag, "something else")


class _FileChecker:
    """Checks one file's node tree; collects problems and the entries that were valid."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.entries: list[tuple[FaqEntry, int]] = []

    def problem(self, node: yaml.Node | None, reason: str) -> None:
        self.problems.append(Problem(self.file, _line(node) if node is not None else None, reason))

    def text(self, node: yaml.Node, field: str, *, required: bool) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
            if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and not required:
                return ""
            hint = " (put it in quotes)" if isinstance(node, yaml.ScalarNode) else ""
            self.problem(node, f"{field} must be text, got {_describe(node)}{hint}")
            return None
        value = node.value.strip()
        if required and not value:
            self.problem(node, f"{field} is empty")
            return None
        return value

    def text_list(self, node: yaml.Node, field: str) -> list[str] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{field} must be a list of text, got {_describe(node)}")
            return None
        values: list[str] = []
        ok = True
        for item in node.value:
            value = self.text(item, f"each item of {field}", required=True)
            if value is None:
                ok = False
            else:
                values.append(value)
        return values if ok else None

    def check_document(self, root: yaml.Node | None) -> None:
        if root is None:
            self.problem(None, "file is empty (expected 'version: 1' and a 'faqs:' list)")
            return
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, f"top level must be a mapping with 'version' and 'faqs', got {_describe(root)}")
            return
        fields = {}
        for key_node, value_node in root.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in TOP_LEVEL_FIELDS:
                self.problem(key_node, f"unknown top-level field {key!r} (allowed: version, faqs)")
            elif key in fields:
                self.problem(key_node, f"top-level field {key!r} appears twice")
            else:
                fields[key] = value_node
        version = fields.get("version")
        if version is None:
            self.problem(root, "missing 'version: 1'")
        elif not (version.tag == "tag:yaml.org,2002:int" and int(version.value) in SUPPORTED_VERSIONS):
            self.problem(version, f"unsupported version {version.value!r} (supported: 1)")
        faqs = fields.get("faqs")
        if faqs is None:
            self.problem(root, "missing 'faqs:' list")
            return
        if not isinstance(faqs, yaml.SequenceNode):
            self.problem(faqs, f"faqs must be a list, got {_describe(faqs)}")
            return
        for item in faqs.value:
            self.check_entry(item)

    def check_entry(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"each FAQ must be a mapping (id, question, answer, ...), got {_describe(node)}")
            return
        fields: dict[str, yaml.Node] = {}
        ok = True
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in ALL_FIELDS:
                allowed = ", ".join([*REQUIRED_FIELDS, *OPTIONAL_FIELDS])
                self.problem(key_node, f"unknown field {key!r} (allowed: {allowed})")
                ok = False
            elif key in fields:
                self.problem(key_node, f"field {key!r} appears twice in one FAQ")
                ok = False
            else:
                fields[key] = value_node
        for name in REQUIRED_FIELDS:
            if name not in fields:
                self.problem(node, f"FAQ is missing required field {name!r}")
                ok = False
        values: dict[str, object] = {}
        for name, value_node in fields.items():
            if name in ("phrasings", "tags"):
                value = self.text_list(value_node, name)
            else:
                value = self.text(value_node, name, required=name in REQUIRED_FIELDS)
            if value is None:
                ok = False
            values[name] = value
        faq_id = values.get("id")
        if isinstance(faq_id, str) and faq_id and not ID_PATTERN.match(faq_id):
            self.problem(fields["id"], f"id {faq_id!r} may only use a-z, 0-9, '_', '.', '-'")
            ok = False
        language = values.get("language")
        if isinstance(language, str) and language and not LANGUAGE_PATTERN.match(language):
            self.problem(fields["language"], f"language {language!r} is not a language code like 'en' or 'pt-BR'")
            ok = False
        for phrasing in values.get("phrasings") or []:
            if len(phrasing) > MAX_PHRASING_CHARS:  # type: ignore[arg-type]
                self.problem(fields["phrasings"], f"a phrasing is longer than {MAX_PHRASING_CHARS} characters")
                ok = False
        if not ok:
            return
        entry = FaqEntry(
            id=str(values["id"]),
            question=str(values["question"]),
            answer=str(values["answer"]),
            phrasings=list(values.get("phrasings") or []),  # type: ignore[arg-type]
            category=str(values.get("category") or ""),
            tags=list(values.get("tags") or []),  # type: ignore[arg-type]
            language=str(values.get("language") or "en"),
        )
        self.entries.append((entry, _line(node)))


def check_yaml_text(text: str, file: str) -> tuple[list[tuple[FaqEntry, int]], list[Problem]]:
    """Entries (with their line) and problems of one YAML document."""
    checker = _FileChecker(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return [], [Problem(file, line, f"not valid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return [], [Problem(file, None, f"not valid YAML: {exc}")]
    checker.check_document(root)
    return checker.entries, checker.problems


def check_collection(located: list[tuple[FaqEntry, str, int]]) -> list[Problem]:
    """Problems that only show across entries: duplicate ids, one phrasing in two FAQs."""
    problems: list[Problem] = []
    first_id: dict[str, tuple[str, int]] = {}
    for entry, file, line in located:
        if entry.id in first_id:
            other_file, other_line = first_id[entry.id]
            problems.append(Problem(file, line, f"duplicate id {entry.id!r} (first defined at {other_file}:{other_line})"))
        else:
            first_id[entry.id] = (file, line)
    # The same text pointing to two FAQs makes retrieval a coin toss between them.
    owner: dict[str, tuple[str, str, int]] = {}
    for entry, file, line in located:
        for text in entry.texts():
            key = phrasing_key(text)
            if key in owner and owner[key][0] != entry.id:
                other_id, other_file, other_line = owner[key]
                problems.append(
                    Problem(file, line, f"phrasing {text!r} of {entry.id!r} is also used by {other_id!r} ({other_file}:{other_line})")
                )
            else:
                owner.setdefault(key, (entry.id, file, line))
    return problems


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
