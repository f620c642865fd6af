"""knowledge_base.editing: edits keep the rest of the file, validate, and never lose a write."""

from __future__ import annotations

import difflib
import shutil
import threading
from pathlib import Path

import pytest

from knowledge_base import FaqEntry, FaqValidationError
from knowledge_base.editing import FaqNotFound, SourceChanged, add_faq, add_phrasings, move_phrasing, source_stamp
from knowledge_base.source import load_faq_dir

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(PROJECT / "data" / "faq", target)
    return target


def one_way_diff(before: str, after: str, kind: str) -> list[str]:
    """The lines inserted (kind "insert") or deleted ("delete"); fails on any other change."""
    lines: list[str] = []
    a, b = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert tag in ("equal", kind), (tag, a[i1:i2], b[j1:j2])
        if tag == kind:
            lines += b[j1:j2] if kind == "insert" else a[i1:i2]
    return lines


def only_insertions(before: str, after: str) -> list[str]:
    """The lines added; fails if any original line was changed, dropped or moved."""
    return one_way_diff(before, after, "insert")


def only_deletions(before: str, after: str) -> list[str]:
    """The lines removed; fails if any line was added or changed."""
    return one_way_diff(before, after, "delete")


def by_id(faq_dir: Path) -> dict[str, FaqEntry]:
    return {e.id: e for e in load_faq_dir(faq_dir)}


def test_new_faq_is_appended_to_its_category_file_and_nothing_else_changes(faq_dir: Path) -> None:
    before = {p.name: p.read_text() for p in faq_dir.glob("*.yml")}
    entry = FaqEntry(id="payment.paypal", question="Can I pay with PayPal?",
                     answer="Not yet: we accept cards, Klarna and gift cards.\nPayPal is planned.",
                     phrasings=["do you accept paypal", "paypal: possible?"], category="payment", tags=["paypal"])
    result = add_faq(faq_dir, entry, expected_stamp=source_stamp(faq_dir))
    assert result.file == faq_dir / "payment.yml" and result.formatting_preserved
    after = (faq_dir / "payment.yml").read_text()
    added = only_insertions(before["payment.yml"], after)
    assert "  - id: payment.paypal" in added and "      - 'paypal: possible?'" in added
    assert after.startswith("# Brightcart demo FAQ (payment)")  # the header comment survives
    for name, text in before.items():
        if name != "payment.yml":
            assert (faq_dir / name).read_text() == text
    loaded = by_id(faq_dir)["payment.paypal"]
    assert loaded.phrasings == ["do you accept paypal", "paypal: possible?"]
    assert loaded.answer == "Not yet: we accept cards, Klarna and gift cards.\nPayPal is planned."
    assert loaded.category == "payment" and loaded.tags == ["paypal"]
    assert result.source_stamp == source_stamp(faq_dir) != ""
    assert not [p for p in faq_dir.iterdir() if p.name.startswith(".")]  # no temp file left


def test_new_category_gets_its_own_file(faq_dir: Path) -> None:
    result = add_faq(faq_dir, FaqEntry(id="gifts.wrap", question="Do you gift wrap?", answer="No.", category="gifts"))
    assert result.file == faq_dir / "gifts.yml"
    assert by_id(faq_dir)["gifts.wrap"].answer == "No."
    no_category = add_faq(faq_dir, FaqEntry(id="misc.one", question="One?", answer="Yes."))
    assert no_category.file == faq_dir / "gaps.yml"


def test_phrasings_are_inserted_after_the_existing_ones(faq_dir: Path) -> None:
    before = (faq_dir / "contact.yml").read_text()
    result = add_phrasings(faq_dir, "contact.hours", ["when are you open", "Customer service hours", "yes"])
    assert result.added_phrasings == ["when are you open", "yes"]
    assert result.skipped_phrasings == ["Customer service hours"]  # already there, other case
    added = only_insertions(before, (faq_dir / "contact.yml").read_text())
    assert added == ["      - when are you open", "      - 'yes'"]
    assert by_id(faq_dir)["contact.hours"].phrasings[-2:] == ["when are you open", "yes"]


def test_phrasings_for_a_faq_without_any_and_in_flow_style(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yml").write_text(
        "version: 1\n# keep me\nfaqs:\n"
        "  - id: a.one\n    question: First?  # trailing comment\n    answer: One.\n"
        "  - id: a.two\n    question: Second?\n    phrasings: [second one]\n    answer: Two.\n"
    )
    add_phrasings(faq_dir, "a.one", ["the first"])
    add_phrasings(faq_dir, "a.two", ["number two"])
    text = (faq_dir / "a.yml").read_text()
    assert "# keep me" in text and "# trailing comment" in text
    assert by_id(faq_dir)["a.one"].phrasings == ["the first"]
    assert by_id(faq_dir)["a.two"].phrasings == ["second one", "number two"]


def test_an_unusual_layout_is_rewritten_and_says_so(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "x.yml").write_text("# header\nversion: 1\nfaqs: []\n")
    (faq_dir / "y.yml").write_text("version: 1\nfaqs:\n  - id: y.one\n    question: Y?\n    answer: Y.\n")
    result = add_faq(faq_dir, FaqEntry(id="x.one", question="X?", answer="X."), file="x.yml")
    assert not result.formatting_preserved
    assert (faq_dir / "x.yml").read_text().startswith("# header\n")
    assert set(by_id(faq_dir)) == {"x.one", "y.one"}


def test_validation_problems_come_back_with_file_and_line_and_nothing_is_written(faq_dir: Path) -> None:
    before = {p.name: p.read_text() for p in faq_dir.glob("*.yml")}
    with pytest.raises(FaqValidationError) as duplicate:
        add_faq(faq_dir, FaqEntry(id="orders.cancel", question="Cancel?", answer="Yes.", category="orders"))
    reasons = [str(p) for p in duplicate.value.problems]
    assert any("duplicate id 'orders.cancel'" in r and "orders.yml:" in r for r in reasons), reasons

    with pytest.raises(FaqValidationError) as empty:
        add_faq(faq_dir, FaqEntry(id="payment.x", question="X?", answer="  ", category="payment"))
    problem = empty.value.problems[0]
    assert problem.reason == "answer is empty" and problem.file.endswith("payment.yml") and problem.line

    with pytest.raises(FaqValidationError) as bad_id:
        add_faq(faq_dir, FaqEntry(id="Payment X", question="X?", answer="Y", category="payment"))
    assert "may only use" in bad_id.value.problems[0].reason

    with pytest.raises(FaqValidationError) as taken:
        add_phrasings(faq_dir, "contact.hours", ["forgot password"])  # owned by account_privacy.password_reset
    assert "also used by 'account_privacy.password_reset'" in taken.value.problems[0].reason

    with pytest.raises(FaqValidationError):
        add_faq(faq_dir, FaqEntry(id="a.b", question="Q?", answer="A."), file="../escape.yml")
    with pytest.raises(FaqNotFound):
        add_phrasings(faq_dir, "no.such", ["hello"])
    assert {p.name: p.read_text() for p in faq_dir.glob("*.yml")} == before


def test_a_stale_stamp_is_refused(faq_dir: Path) -> None:
    stamp = source_stamp(faq_dir)
    (faq_dir / "contact.yml").write_text((faq_dir / "contact.yml").read_text() + "# edited by hand\n")
    with pytest.raises(SourceChanged) as changed:
        add_phrasings(faq_dir, "contact.hours", ["when are you open"], expected_stamp=stamp)
    assert changed.value.current_stamp == source_stamp(faq_dir) != stamp
    assert "when are you open" not in (faq_dir / "contact.yml").read_text()


def test_concurrent_edits_are_serialised_and_none_is_lost(faq_dir: Path) -> None:
    errors: list[BaseException] = []

    def edit(n: int) -> None:
        try:
            add_phrasings(faq_dir, "contact.hours", [f"concurrent phrasing {n}"])
            add_faq(faq_dir, FaqEntry(id=f"contact.new{n}", question=f"New question {n}?", answer="A.",
                                      category="contact"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = by_id(faq_dir)
    assert {f"contact.new{n}" for n in range(6)} <= set(entries)
    assert {f"concurrent phrasing {n}" for n in range(6)} <= set(entries["contact.hours"].phrasings)


def test_a_phrasing_moves_to_the_faq_it_reads_like_in_another_file(faq_dir: Path) -> None:
    phrasing = "i got an order confirmation for something i didnt buy"
    source, target = (faq_dir / "account_privacy.yml").read_text(), (faq_dir / "orders.yml").read_text()
    result = move_phrasing(faq_dir, "account_privacy.security", phrasing, "orders.confirmation_missing",
                           expected_stamp=source_stamp(faq_dir))
    assert (result.faq_id, result.moved_from, result.added_phrasings, result.removed_phrasings) == (
        "orders.confirmation_missing", "account_privacy.security", [phrasing], [phrasing])
    assert result.file == faq_dir / "orders.yml" and result.formatting_preserved
    assert only_deletions(source, (faq_dir / "account_privacy.yml").read_text()) == [f"      - {phrasing}"]
    assert only_insertions(target, (faq_dir / "orders.yml").read_text()) == [f"      - {phrasing}"]
    faqs = by_id(faq_dir)
    assert phrasing not in faqs["account_privacy.security"].phrasings
    assert faqs["orders.confirmation_missing"].phrasings[-1] == phrasing
    assert result.source_stamp == source_stamp(faq_dir)


def test_a_move_within_one_file_and_a_removal(faq_dir: Path) -> None:
    before = (faq_dir / "payment.yml").read_text()
    moved = move_phrasing(faq_dir, "payment.charged_twice", "Payment failed but money was TAKEN anyway",
                          "payment.problem")  # matched like the validator matches: case and spacing
    assert moved.added_phrasings == ["payment failed but money was taken anyway"] and moved.formatting_preserved
    after = (faq_dir / "payment.yml").read_text()
    assert after.count("payment failed but money was taken anyway") == 1
    assert sorted(set(before.splitlines()) ^ set(after.splitlines())) == []  # the same lines, one moved
    assert "payment failed but money was taken anyway" in by_id(faq_dir)["payment.problem"].phrasings

    removed = move_phrasing(faq_dir, "payment.klarna", "klarna", None)
    assert removed.removed_phrasings == ["klarna"] and removed.added_phrasings == [] and removed.moved_from is None
    assert only_deletions(after, (faq_dir / "payment.yml").read_text()) == ["      - klarna"]
    assert "klarna" not in by_id(faq_dir)["payment.klarna"].phrasings


def test_moves_that_cannot_be_made_are_refused_and_nothing_is_written(faq_dir: Path) -> None:
    before = {p.name: p.read_text() for p in faq_dir.glob("*.yml")}
    question = by_id(faq_dir)["payment.klarna"].question
    for faq_id, phrasing, to, reason in (
        ("payment.klarna", question, "payment.methods", "is the question of"),
        ("payment.klarna", "no such phrasing", "payment.methods", "is not a phrasing of"),
        ("payment.klarna", "klarna", "payment.klarna", "already belongs to"),
    ):
        with pytest.raises(FaqValidationError) as raised:
            move_phrasing(faq_dir, faq_id, phrasing, to)
        assert reason in str(raised.value) and raised.value.problems[0].file.endswith("payment.yml")
    with pytest.raises(FaqNotFound):
        move_phrasing(faq_dir, "no.such", "klarna", None)
    with pytest.raises(FaqNotFound):
        move_phrasing(faq_dir, "payment.klarna", "klarna", "no.such")
    with pytest.raises(SourceChanged):
        move_phrasing(faq_dir, "payment.klarna", "klarna", None, expected_stamp="0" * 64)
    assert {p.name: p.read_text() for p in faq_dir.glob("*.yml")} == before


def test_flow_lists_and_a_last_phrasing(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yml").write_text(
        "# keep me\nversion: 1\nfaqs:\n"
        "  - id: a.one\n    question: First?\n    phrasings: [one, uno, eins]  # flow\n    answer: A.\n"
        "  - id: a.two\n    question: Second?\n    phrasings:\n      - two\n    answer: B.\n")
    flow = move_phrasing(faq_dir, "a.one", "uno", None)
    assert flow.formatting_preserved and "phrasings: [one, eins]  # flow" in (faq_dir / "a.yml").read_text()
    last = move_phrasing(faq_dir, "a.two", "two", "a.one")
    faqs = by_id(faq_dir)
    assert faqs["a.two"].phrasings == [] and faqs["a.one"].phrasings == ["one", "eins", "two"]
    assert not last.formatting_preserved  # the emptied list is rewritten, and says so
    assert (faq_dir / "a.yml").read_text().startswith("# keep me\n")
