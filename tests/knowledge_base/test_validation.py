from pathlib import Path

import pytest

from knowledge_base.source import load_faq_dir
from knowledge_base.validation import FaqValidationError

from kb_testing import ORDERS_YML, write


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(FaqValidationError) as info:
        load_faq_dir(directory)
    return [str(p) for p in info.value.problems]


def test_valid_folder_loads_every_field(faq_dir):
    entries = {e.id: e for e in load_faq_dir(faq_dir)}
    assert set(entries) == {"orders.cancel", "orders.track", "account.password"}
    cancel = entries["orders.cancel"]
    assert cancel.phrasings == ["cancel my order", "I want to cancel a purchase"]
    assert cancel.answer.startswith("You can cancel")
    assert cancel.tags == ["orders", "cancellation"]
    assert cancel.category == "orders"
    assert cancel.language == "en"


def test_every_problem_is_reported_together_with_file_and_line(tmp_path):
    write(tmp_path / "a.yml", """\
        version: 1
        faqs:
          - id: Bad Id
            question: Hello?
            answer: Hi
          - id: x.empty
            question: Why?
            answer: "  "
          - id: x.unknown
            question: What?
            answer: That.
            colour: blue
          - id: x.types
            question: [not, text]
            answer: yes
            tags: orders
        """)
    found = problems_of(tmp_path)
    assert any("a.yml:3:" in p and "Bad Id" in p for p in found)
    assert any("a.yml:8:" in p and "answer is empty" in p for p in found)
    assert any("a.yml:12:" in p and "unknown field 'colour'" in p for p in found)
    assert any("a.yml:14:" in p and "question must be text, got a list" in p for p in found)
    assert any("a.yml:15:" in p and "answer must be text, got a yes/no value" in p for p in found)
    assert any("a.yml:16:" in p and "tags must be a list" in p for p in found)
    assert len(found) == 6


def test_duplicate_ids_across_files_name_both_places(tmp_path):
    write(tmp_path / "one.yml", ORDERS_YML)
    write(tmp_path / "two.yml", """\
        version: 1
        faqs:
          - id: orders.track
            question: Where is my order now?
            answer: Somewhere.
        """)
    (found,) = problems_of(tmp_path)
    assert "two.yml:3:" in found and "duplicate id 'orders.track'" in found and "one.yml:12" in found


def test_same_phrasing_in_two_faqs_is_rejected(tmp_path):
    write(tmp_path / "a.yml", """\
        version: 1
        faqs:
          - id: a
            question: Cancel my order
            answer: A
          - id: b
            question: Stop my order
            phrasings: ["cancel  MY order"]
            answer: B
        """)
    (found,) = problems_of(tmp_path)
    assert "also used by 'a'" in found


@pytest.mark.parametrize(
    "text, expected",
    [
        ("version: 1\nfaqs:\n  - id: a\n    question: [unclosed\n", "not valid YAML"),
        ("", "file is empty"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("faqs: []\n", "missing 'version: 1'"),
        ("version: 2\nfaqs: []\n", "unsupported version"),
        ("version: 1\n", "missing 'faqs:' list"),
        ("version: 1\nfaqs: {a: 1}\n", "faqs must be a list"),
        ("version: 1\nfaqs:\n  - just text\n", "each FAQ must be a mapping"),
        ("version: 1\nfaqs:\n  - id: a\n    question: q\n", "missing required field 'answer'"),
        ("version: 1\nfaqs:\n  - id: a\n    question: q\n    answer: a\n    language: English\n", "not a language code"),
        ("version: 1\nextra: 1\nfaqs: []\n", "unknown top-level field 'extra'"),
    ],
)
def test_malformed_files(tmp_path, text, expected):
    write(tmp_path / "bad.yml", text)
    found = problems_of(tmp_path)
    assert any(expected in p for p in found), found
    assert all(p.startswith("bad.yml") or "bad.yml" in p for p in found)


def test_non_utf8_file(tmp_path):
    (tmp_path / "latin.yml").write_bytes("version: 1\nfaqs:\n  - id: caf\xe9\n".encode("latin-1"))
    (found,) = problems_of(tmp_path)
    assert "not UTF-8" in found


def test_empty_folder(tmp_path):
    (found,) = problems_of(tmp_path)
    assert "no FAQ files" in found


def test_error_message_lists_all_problems(tmp_path):
    write(tmp_path / "a.yml", "version: 1\nfaqs:\n  - id: a\n    question: ''\n    answer: ''\n")
    with pytest.raises(FaqValidationError) as info:
        load_faq_dir(tmp_path)
    message = str(info.value)
    assert message.startswith("2 problems")
    assert "question is empty" in message and "answer is empty" in message
