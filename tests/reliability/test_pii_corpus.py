"""Redaction recall on a generated PII corpus (>= 2,000 strings, 7 Faker locales) and
precision on ordinary customer sentences (order numbers, dates, prices left alone).

The corpus is built at test time from a fixed seed (tests/reliability/pii_corpus.py).
Figures for other seeds (held out while the patterns were written) are in
docs/reliability.md, family 8.
"""

from __future__ import annotations

import pytest

from staff.privacy.redaction import redact
from tests.reliability.pii_corpus import LOCALES, Report, evaluate, positive_corpus


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(redact)


def test_corpus_is_large_and_covers_every_locale_and_kind() -> None:
    cases = positive_corpus()
    assert len(cases) >= 2000
    assert {case.locale for case in cases} == set(LOCALES)
    assert {case.kind for case in cases} == {"email", "phone", "card", "iban", "address"}
    # The forms the issue names are in the corpus: non-ASCII local parts, dashed IBANs,
    # separated cards, international and national phones, multi-line addresses.
    values = [case.value for case in cases]
    assert any("@" in v and not v.split("@")[0].isascii() for v in values)
    assert any(case.kind == "iban" and "-" in case.value for case in cases)
    assert any(case.kind == "card" and " " in case.value for case in cases)
    assert any(case.kind == "phone" and case.value.startswith("+") for case in cases)
    assert any(case.kind == "phone" and case.value.startswith("0") for case in cases)
    assert any(case.kind == "address" and ", " in case.value for case in cases)


def test_recall_is_at_least_99_percent(report: Report) -> None:
    print("\n".join(report.lines()))
    misses = [f"{case.kind} {case.locale} {case.value!r} -> {out!r}" for case, out in report.misses[:20]]
    assert report.recall >= 0.99, "\n".join(misses)
    for kind, total in report.by_kind.items():
        assert report.caught_by_kind[kind] / total >= 0.97, kind


def test_ordinary_sentences_are_left_alone(report: Report) -> None:
    # Precision on what customers write without personal data; reported, and held to
    # a floor so a pattern that starts eating order numbers or prices fails here.
    shown = [f"{before!r} -> {after!r}" for before, after in report.false_positives[:20]]
    assert report.negatives >= 1000
    assert report.negative_precision >= 0.98, "\n".join(shown)
    # Text around a caught value stays as the customer wrote it.
    assert report.context_damaged <= report.positives * 0.01
