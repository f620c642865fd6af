"""Changing the FAQ sources from code: add a FAQ, add phrasings to one, move a phrasing
to another FAQ or remove it.

Edits are made to the YAML *text*, not by re-dumping parsed data, so comments, blank
lines, key order and quoting elsewhere in the file survive. Every edit is checked twice
before it is written: the knowledge base's own validation over the whole folder (so a
duplicate id or a phrasing owned by another FAQ comes back as `file:line: reason`), and a
re-parse of the edited file that must give exactly the entries intended. If the text
edit cannot be made safely (an unusual layout such as `faqs: []`), the file is rewritten
from its parsed entries with its leading comment kept, and the result says so.

Writers are serialised (a lock per folder in this process and `flock` on the folder for
other processes) and files are replaced atomically. `source_stamp` identifies the state
of the sources a caller last saw; passing it back as `expected_stamp` turns "someone else
changed the files meanwhile" into SourceChanged instead of a silent overwrite.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import yaml

from .records import FaqEntry, phrasing_key
from .source import YAML_SUFFIXES, check_faq_files, dump_faq_yaml, yaml_files
from .validation import FaqValidationError, Problem, check_yaml_text, display_path

logger = logging.getLogger(__name__)

DEFAULT_NEW_FILE = "gaps.yml"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DIR_LOCKS: dict[Path, threading.Lock] = {}
_DIR_LOCKS_GUARD = threading.Lock()


class SourceChanged(RuntimeError):
    """The FAQ files changed since the caller read them."""

    def __init__(self, current_stamp: str):
        self.current_stamp = current_stamp
        super().__init__("the FAQ sources changed since they were loaded; reload and try again")


class FaqNotFound(LookupError):
    def __init__(self, faq_id: str):
        self.faq_id = faq_id
        super().__init__(f"no FAQ with id {faq_id!r} in the sources")


@dataclass(frozen=True)
class EditResult:
    file: Path
    faq_id: str
    added_phrasings: list[str]
    skipped_phrasings: list[str] = field(default_factory=list)
    source_stamp: str = ""
    # False when the file had to be rewritten from its entries (comments inside it lost).
    formatting_preserved: bool = True
    removed_phrasings: list[str] = field(default_factory=list)
    moved_from: str | None = None  # the FAQ a moved phrasing left


# -- stamps and locking ---------------------------------------------------------------


def source_stamp(faq_dir: Path) -> str:
    """A digest of every FAQ source file's name and bytes (changes with any edit)."""
    faq_dir = Path(faq_dir)
    digest = hashlib.sha256()
    for path in yaml_files(faq_dir):
        digest.update(str(path.relative_to(faq_dir)).encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextmanager
def edit_lock(faq_dir: Path) -> Iterator[None]:
    """One writer at a time: threads of this process, then other processes (flock)."""
    key = Path(faq_dir).resolve()
    with _DIR_LOCKS_GUARD:
        lock = _DIR_LOCKS.setdefault(key, threading.Lock())
    with lock:
        fd = os.open(key, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


# -- public edits ---------------------------------------------------------------------


def add_faq(
    faq_dir: Path,
    entry: FaqEntry,
    *,
    file: str | None = None,
    expected_stamp: str | None = None,
) -> EditResult:
    """Append a new FAQ to `file` (default: the file holding its category, else
    `<category>.yml`, else gaps.yml). FaqValidationError if the result would not load."""
    faq_dir = Path(faq_dir)
    entry = _normalised(entry)
    with edit_lock(faq_dir):
        _check_stamp(faq_dir, expected_stamp)
        path = faq_dir / file if file else _default_file(faq_dir, entry.category)
        _check_target(faq_dir, path)
        if path.exists():
            original = path.read_text(encoding="utf-8")
            before = _entries_of(original, path)
            edited = _append_entry_text(original, entry)
        else:
            original, before = "", []
            edited = "# FAQs added from the FAQ gaps page.\nversion: 1\nfaqs:\n" + _entry_block(entry, "  ")
        result = _commit(faq_dir, path, original, edited, [*before, entry])
        return EditResult(path, entry.id, list(entry.phrasings), [], source_stamp(faq_dir), result)


def add_phrasings(
    faq_dir: Path,
    faq_id: str,
    phrasings: list[str],
    *,
    expected_stamp: str | None = None,
) -> EditResult:
    """Add phrasings to an existing FAQ; ones it already has (any case/spacing) are skipped."""
    faq_dir = Path(faq_dir)
    wanted = [_one_line(p) for p in phrasings if _one_line(p)]
    with edit_lock(faq_dir):
        _check_stamp(faq_dir, expected_stamp)
        path, original = _file_of(faq_dir, faq_id)
        before = _entries_of(original, path)
        current = next(e for e in before if e.id == faq_id)
        known = {phrasing_key(t) for t in current.texts()}
        added: list[str] = []
        skipped: list[str] = []
        for text in wanted:
            if phrasing_key(text) in known:
                skipped.append(text)
            else:
                known.add(phrasing_key(text))
                added.append(text)
        if not added:
            raise FaqValidationError(
                [Problem(display_path(path), None, f"nothing to add: every phrasing is already part of {faq_id!r}")]
            )
        edited = _insert_phrasings_text(original, faq_id, added)
        expected = [replace(e, phrasings=[*e.phrasings, *added]) if e.id == faq_id else e for e in before]
        result = _commit(faq_dir, path, original, edited, expected)
        return EditResult(path, faq_id, added, skipped, source_stamp(faq_dir), result)


def move_phrasing(
    faq_dir: Path,
    faq_id: str,
    phrasing: str,
    to_faq_id: str | None,
    *,
    expected_stamp: str | None = None,
) -> EditResult:
    """Take one phrasing out of `faq_id` and, unless `to_faq_id` is None, add it to that FAQ
    (what an editor does about a phrasing that reads like another FAQ). The question
    itself cannot be moved: edit it instead."""
    faq_dir = Path(faq_dir)
    key = phrasing_key(phrasing)
    with edit_lock(faq_dir):
        _check_stamp(faq_dir, expected_stamp)
        path, original = _file_of(faq_dir, faq_id)
        before = _entries_of(original, path)
        current = next(e for e in before if e.id == faq_id)
        where = display_path(path)
        if key == phrasing_key(current.question):
            raise FaqValidationError([Problem(where, None, f"{phrasing!r} is the question of {faq_id!r}, not a phrasing; edit the question instead")])
        kept = [p for p in current.phrasings if phrasing_key(p) != key]
        if len(kept) == len(current.phrasings):
            raise FaqValidationError([Problem(where, None, f"{phrasing!r} is not a phrasing of {faq_id!r}")])
        removed = [p for p in current.phrasings if phrasing_key(p) == key]
        source = _FileEdit(path, original, _remove_phrasing_text(original, faq_id, key),
                           [replace(e, phrasings=kept) if e.id == faq_id else e for e in before])
        if to_faq_id is None:
            preserved = _commit_all(faq_dir, [source])
            return EditResult(path, faq_id, [], [], source_stamp(faq_dir), preserved, removed_phrasings=removed)
        if to_faq_id == faq_id:
            raise FaqValidationError([Problem(where, None, f"{phrasing!r} already belongs to {faq_id!r}")])
        target_path, target_text = _file_of(faq_dir, to_faq_id)
        same_file = target_path.resolve() == path.resolve()
        if same_file:  # both changes go into one edit of that file
            target_path, target_text, target_before = path, source.edited, source.expected
        else:
            target_before = _entries_of(target_text, target_path)
        moved = _one_line(removed[0])
        target = next(e for e in target_before if e.id == to_faq_id)
        if key in {phrasing_key(t) for t in target.texts()}:
            edited_target = target_text  # it already has it: the move is only a removal
            expected = target_before
        else:
            edited_target = _insert_phrasings_text(target_text, to_faq_id, [moved]) if target_text else None
            expected = [replace(e, phrasings=[*e.phrasings, moved]) if e.id == to_faq_id else e for e in target_before]
        if same_file:
            preserved = _commit_all(faq_dir, [_FileEdit(path, original, edited_target, expected)])
        else:
            # The target is written first: a crash between the two writes leaves the
            # phrasing in both files (validation names both), never in neither.
            target_edit = _FileEdit(target_path, target_text or "", edited_target, expected)
            preserved = _commit_all(faq_dir, [target_edit, source])
        return EditResult(target_path, to_faq_id, [moved], [], source_stamp(faq_dir), preserved,
                          removed_phrasings=removed, moved_from=faq_id)


# -- validation and writing -----------------------------------------------------------


@dataclass(frozen=True)
class _FileEdit:
    path: Path
    original: str
    edited: str | None  # None: the text edit could not be made; rewrite from `expected`
    expected: list[FaqEntry]


def _commit(faq_dir: Path, path: Path, original: str, edited: str | None, expected: list[FaqEntry]) -> bool:
    return _commit_all(faq_dir, [_FileEdit(path, original, edited, expected)])


def _commit_all(faq_dir: Path, edits: list[_FileEdit]) -> bool:
    """Validate the folder with every edit applied, fall back to a rewrite of a file whose
    text edit went wrong, then write the files atomically in order. Returns whether every
    file's own formatting was preserved."""
    texts: dict[Path, str] = {}
    preserved = True
    for edit in edits:
        text = edit.edited
        if text is None or not _same_entries(_entries_of(text, edit.path, strict=False), edit.expected):
            logger.warning("could not edit %s in place; rewriting it from its entries", display_path(edit.path))
            text = _leading_comment(edit.original) + dump_faq_yaml(edit.expected)
            preserved = False
        texts[edit.path] = text
    problems = _folder_problems(faq_dir, {path.resolve(): text for path, text in texts.items()})
    if problems:
        raise FaqValidationError(problems)
    for edit in edits:
        _write_atomically(edit.path, texts[edit.path])
        logger.info("FAQ source %s updated (%d entries)", display_path(edit.path), len(edit.expected))
    return preserved


def _folder_problems(faq_dir: Path, replaced: dict[Path, str]) -> list[Problem]:
    """What load_faq_dir would report if `replaced` files had the given text."""
    files = {p.resolve(): p for p in yaml_files(faq_dir)}
    for resolved in replaced:
        files.setdefault(resolved, resolved)
    ordered = [path for _, path in sorted(files.items(), key=lambda item: str(item[0]))]
    return check_faq_files(ordered, replaced)[1]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_stamp(faq_dir: Path, expected: str | None) -> None:
    if expected is not None:
        current = source_stamp(faq_dir)
        if current != expected:
            raise SourceChanged(current)


def _check_target(faq_dir: Path, path: Path) -> None:
    name = path.name
    inside = path.resolve().parent == faq_dir.resolve() or faq_dir.resolve() in path.resolve().parents
    if not inside or not _FILE_NAME.match(name) or path.suffix not in YAML_SUFFIXES:
        raise FaqValidationError(
            [Problem(str(path.name), None, "file must be a .yml/.yaml name inside the FAQ folder (letters, digits, '_', '-', '.')")]
        )


def _default_file(faq_dir: Path, category: str) -> Path:
    """The file that already holds most FAQs of this category, else one named after it."""
    best: tuple[int, Path] | None = None
    if category:
        for path in yaml_files(faq_dir):
            try:
                entries = _entries_of(path.read_text(encoding="utf-8"), path, strict=False)
            except UnicodeDecodeError:
                continue
            count = sum(1 for e in entries if e.category == category)
            if count and (best is None or count > best[0]):
                best = (count, path)
    if best is not None:
        return best[1]
    if category and _FILE_NAME.match(f"{category}.yml"):
        return faq_dir / f"{category}.yml"
    return faq_dir / DEFAULT_NEW_FILE


def _file_of(faq_dir: Path, faq_id: str) -> tuple[Path, str]:
    for path in yaml_files(faq_dir):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if any(e.id == faq_id for e in _entries_of(text, path, strict=False)):
            return path, text
    raise FaqNotFound(faq_id)


def _entries_of(text: str, path: Path, *, strict: bool = True) -> list[FaqEntry]:
    entries, problems = check_yaml_text(text, display_path(path))
    if problems and strict:
        raise FaqValidationError(problems)
    return [entry for entry, _ in entries]


def _same_entries(actual: list[FaqEntry], expected: list[FaqEntry]) -> bool:
    # `expected` holds parsed entries plus normalised additions: both as the validator reads them.
    return [e.to_dict() for e in actual] == [e.to_dict() for e in expected]


# -- text surgery ---------------------------------------------------------------------


class _BlockDumper(yaml.SafeDumper):
    """Indented block lists (`phrasings:` then `  - ...`) like the hand-written files."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        return super().increase_indent(flow, False)


def _present_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class _FlowList(list):  # type: ignore[type-arg]
    """Short lists (tags) on one line: `tags: [a, b]`."""


def _present_flow_list(dumper: yaml.SafeDumper, value: list[str]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_BlockDumper.add_representer(str, _present_str)
_BlockDumper.add_representer(_FlowList, _present_flow_list)


def _dump(value: object) -> str:
    return yaml.dump(value, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=10_000)


def _entry_block(entry: FaqEntry, dash_indent: str) -> str:
    item: dict[str, object] = {"id": entry.id, "question": entry.question}
    if entry.phrasings:
        item["phrasings"] = list(entry.phrasings)
    # A `|` block like the hand-written files; an empty answer stays '' so validation says so.
    item["answer"] = entry.answer.rstrip("\n") + "\n" if entry.answer.strip() else ""
    if entry.category:
        item["category"] = entry.category
    if entry.tags:
        item["tags"] = _FlowList(entry.tags)
    if entry.language != "en":
        item["language"] = entry.language
    lines = _dump([item]).splitlines()
    return "".join(f"{dash_indent}{line}\n" if line else "\n" for line in lines)


def _scalar(text: str) -> str:
    """One phrasing as a YAML scalar on one line (quoted when it has to be)."""
    return _dump([text]).splitlines()[0][2:]


def _root_and_faqs(text: str) -> tuple[yaml.MappingNode, yaml.Node, int] | None:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    for position, (key, value) in enumerate(root.value):
        if isinstance(key, yaml.ScalarNode) and key.value == "faqs":
            return root, value, position
    return None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _after_line(text: str, index: int) -> int:
    """Index just past the newline ending the line that holds `index`."""
    if index > 0 and text[index - 1] == "\n":
        return index  # the node already ended with its line break (block scalars)
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _append_entry_text(text: str, entry: FaqEntry) -> str | None:
    found = _root_and_faqs(text)
    if found is None:
        return None
    root, faqs, position = found
    if not isinstance(faqs, yaml.SequenceNode) or faqs.flow_style or not faqs.value:
        return None
    first = faqs.value[0]
    prefix = text[_line_start(text, first.start_mark.index) : first.start_mark.index]
    if not prefix.strip().startswith("-"):
        return None
    dash_indent = prefix[: prefix.index("-")]
    block = "\n" + _entry_block(entry, dash_indent)
    if position == len(root.value) - 1:
        body = text if text.endswith("\n") else text + "\n"
        return body.rstrip("\n") + "\n" + block
    next_key = root.value[position + 1][0]
    at = _line_start(text, next_key.start_mark.index)
    return text[:at] + block.lstrip("\n") + "\n" + text[at:]


def _faq_fields(text: str, faq_id: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """The (key node, value node) of each field of FAQ `faq_id` in the YAML text."""
    found = _root_and_faqs(text)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return None
    for item in found[1].value:
        if not isinstance(item, yaml.MappingNode):
            continue
        fields = {k.value: (k, v) for k, v in item.value if isinstance(k, yaml.ScalarNode)}
        id_node = fields.get("id", (None, None))[1]
        if isinstance(id_node, yaml.ScalarNode) and id_node.value.strip() == faq_id:
            return fields
    return None


def _insert_phrasings_text(text: str, faq_id: str, added: list[str]) -> str | None:
    fields = _faq_fields(text, faq_id)
    if fields is None:
        return None
    if "phrasings" in fields:
        return _extend_list(text, fields["phrasings"][1], added)
    key_node, value_node = fields["question"]
    indent = " " * key_node.start_mark.column
    lines = f"{indent}phrasings:\n" + "".join(f"{indent}  - {_scalar(p)}\n" for p in added)
    at = _after_line(text, value_node.end_mark.index)
    return text[:at] + lines + text[at:]


def _extend_list(text: str, node: yaml.Node, added: list[str]) -> str | None:
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        first, last = node.value[0], node.value[-1]
        prefix = text[_line_start(text, first.start_mark.index) : first.start_mark.index]
        if not prefix.strip() == "-":
            return None
        at = _after_line(text, last.end_mark.index)
        head = text[:at] if text[:at].endswith("\n") or not at else text[:at] + "\n"
        return head + "".join(f"{prefix}{_scalar(p)}\n" for p in added) + text[at:]
    if isinstance(node, yaml.SequenceNode) and node.flow_style:
        existing = [v.value for v in node.value if isinstance(v, yaml.ScalarNode)]
        return text[: node.start_mark.index] + _flow_list([*existing, *added]) + text[node.end_mark.index :]
    return None


def _remove_phrasing_text(text: str, faq_id: str, key: str) -> str | None:
    """The text without the phrasing whose phrasing_key is `key` in FAQ `faq_id`'s list;
    None when that cannot be done in place (the caller rewrites the file)."""
    fields = _faq_fields(text, faq_id)
    node = fields.get("phrasings", (None, None))[1] if fields else None
    if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
        return None  # no list, or its last phrasing (the key goes too): simpler as a rewrite
    hits = [v for v in node.value if isinstance(v, yaml.ScalarNode) and phrasing_key(v.value) == key]
    if not hits:
        return None
    if node.flow_style:
        rest = [v.value for v in node.value if v not in hits]
        return text[: node.start_mark.index] + _flow_list(rest) + text[node.end_mark.index :]
    for hit in reversed(hits):  # later first, so earlier offsets stay valid
        start = _line_start(text, hit.start_mark.index)
        if text[start : hit.start_mark.index].strip() != "-":
            return None
        text = text[:start] + text[_after_line(text, hit.end_mark.index) :]
    return text


def _flow_list(values: list[str]) -> str:
    return yaml.dump(values, Dumper=yaml.SafeDumper, default_flow_style=True, allow_unicode=True,
                     width=10_000).strip()


def _leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "".join(lines)


# -- value clean-up -------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _normalised(entry: FaqEntry) -> FaqEntry:
    """The entry as the validator will read it back (stripped; phrasings on one line)."""
    return replace(
        entry,
        id=entry.id.strip(),
        question=_one_line(entry.question),
        answer=entry.answer.strip(),
        phrasings=[_one_line(p) for p in entry.phrasings if _one_line(p)],
        category=entry.category.strip(),
        tags=[t.strip() for t in entry.tags if t.strip()],
        language=(entry.language or "en").strip(),
    )
