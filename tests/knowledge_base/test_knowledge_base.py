"""The facade end to end on a real faiss index with the hashing encoder."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from kb_testing import HashingEncoder, write

from knowledge_base import Decision, FaqValidationError, KnowledgeBase, Thresholds, build_index
from knowledge_base.facade import KnowledgeBaseUnavailable
from knowledge_base.store import CURRENT, current_version_dir

LOOSE = Thresholds(answer=0.5, suggest=0.2, margin=0.0)


def open_kb(faq_dir: Path, index_dir: Path, encoder: HashingEncoder) -> KnowledgeBase:
    kb = KnowledgeBase.open(faq_dir=faq_dir, index_dir=index_dir, encoder=encoder)
    kb.thresholds = LOOSE
    return kb


def test_answers_with_full_trail(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    decision = kb.answer("how can I cancel my order")
    assert isinstance(decision, Decision)
    assert decision.rule == "answer"
    assert decision.faq is not None and decision.faq.id == "orders.cancel"
    assert [c.faq_id for c in decision.candidates][0] == "orders.cancel"
    assert len(decision.candidates) == 3
    assert decision.candidates[0].score >= decision.candidates[1].score >= decision.candidates[2].score
    trail = json.loads(json.dumps(decision.trail()))
    assert trail["faq_id"] == "orders.cancel"
    assert trail["rule"] == "answer"
    assert trail["model"] == encoder.name
    assert trail["index_version"] == kb.manifest.version
    assert [c["faq_id"] for c in trail["top3"]] == [c.faq_id for c in decision.candidates]


def test_unrelated_query_falls_back_without_faq(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    decision = kb.answer("zebra giraffe elephant")
    assert decision.rule == "fallback"
    assert decision.faq is None
    assert decision.trail()["faq_id"] is None


def test_empty_and_huge_queries(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    for empty in ("", "   \n", None):
        decision = kb.answer(empty)  # type: ignore[arg-type]
        assert decision.rule == "empty_query" and decision.candidates == []
    huge = "cancel my order " + "x" * 100_000
    decision = kb.answer(huge)
    assert decision.trail()["details"]["truncated_from_chars"] == len(huge)
    assert decision.candidates[0].faq_id == "orders.cancel"


def test_get_known_and_unknown_ids(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    assert kb.get("account.password").answer.startswith("Click")
    assert kb.get("no.such.id") is None
    assert kb.get("") is None
    assert kb.get(None) is None  # type: ignore[arg-type]


def test_build_is_a_noop_when_nothing_changed(faq_dir, index_dir, encoder):
    first = build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False)
    calls = encoder.calls
    second = build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False)
    assert second.version == first.version
    assert encoder.calls == calls  # nothing was encoded again
    forced = build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False, force=True)
    assert forced.version != first.version


def test_content_change_rebuilds_on_open(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    old = kb.manifest.version
    write(faq_dir / "more.yml", "version: 1\nfaqs:\n  - id: shipping.cost\n    question: How much is shipping?\n    answer: Free.\n")
    kb2 = open_kb(faq_dir, index_dir, encoder)
    assert kb2.manifest.version != old
    assert kb2.get("shipping.cost") is not None


def test_index_built_with_another_model_is_detected_and_rebuilt(faq_dir, index_dir, caplog):
    build_index(faq_dir, index_dir, "unused", encoder=HashingEncoder(name="model-a"), progress=False)
    caplog.set_level("WARNING")
    kb = KnowledgeBase.open(faq_dir=faq_dir, index_dir=index_dir, encoder=HashingEncoder(name="model-b"))
    assert kb.manifest.model == "model-b"
    assert "model-a" in caplog.text and "model-b" in caplog.text


@pytest.mark.parametrize("damage", ["vectors", "rows", "manifest", "pointer", "missing"])
def test_corrupt_or_missing_index_is_rebuilt_on_open(faq_dir, index_dir, encoder, damage, caplog):
    build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False)
    version_dir = current_version_dir(index_dir)
    if damage == "vectors":
        (version_dir / "vectors.faiss").write_bytes(b"garbage")
    elif damage == "rows":
        (version_dir / "rows.npy").write_bytes(b"\x93NUMPY broken")
    elif damage == "manifest":
        (version_dir / "manifest.json").write_text("{not json")
    elif damage == "pointer":
        (index_dir / CURRENT).write_text("../../etc")
    else:
        (version_dir / "entries.json").unlink()
    caplog.set_level("WARNING")
    kb = open_kb(faq_dir, index_dir, encoder)
    assert kb.answer("forgot password").candidates[0].faq_id == "account.password"
    assert "rebuilding" in caplog.text


def test_missing_index_and_missing_sources_is_a_clear_error(tmp_path, encoder):
    with pytest.raises(KnowledgeBaseUnavailable, match="does not exist"):
        KnowledgeBase.open(faq_dir=tmp_path / "nope", index_dir=tmp_path / "idx", encoder=encoder)


def test_invalid_sources_without_index_raise_validation_error(tmp_path, encoder):
    write(tmp_path / "faq" / "bad.yml", "version: 1\nfaqs:\n  - id: a\n")
    with pytest.raises(FaqValidationError):
        KnowledgeBase.open(faq_dir=tmp_path / "faq", index_dir=tmp_path / "idx", encoder=encoder)


def test_invalid_sources_keep_serving_the_existing_index(faq_dir, index_dir, encoder):
    old = open_kb(faq_dir, index_dir, encoder).manifest.version
    write(faq_dir / "broken.yml", "version: 1\nfaqs: [")
    kb = open_kb(faq_dir, index_dir, encoder)
    assert kb.manifest.version == old
    assert kb.answer("cancel my order").faq.id == "orders.cancel"


def test_reload_picks_up_a_new_version_without_restart(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    assert kb.reload_if_changed() is False
    assert kb.get("shipping.cost") is None
    write(faq_dir / "more.yml", "version: 1\nfaqs:\n  - id: shipping.cost\n    question: How much is shipping?\n    answer: Free.\n")
    build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False)
    assert kb.reload_if_changed() is True
    assert kb.get("shipping.cost") is not None
    assert kb.answer("how much is shipping").candidates[0].faq_id == "shipping.cost"
    assert kb.reload_if_changed() is False


def test_reload_keeps_last_good_index_when_new_one_is_broken(faq_dir, index_dir, encoder, caplog):
    kb = open_kb(faq_dir, index_dir, encoder)
    good = kb.manifest.version
    write(faq_dir / "more.yml", "version: 1\nfaqs:\n  - id: shipping.cost\n    question: How much is shipping?\n    answer: Free.\n")
    build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False)
    (current_version_dir(index_dir) / "vectors.faiss").write_bytes(b"corrupt")
    caplog.set_level("ERROR")
    assert kb.reload_if_changed() is False
    assert kb.manifest.version == good
    assert "keeping version" in caplog.text
    assert kb.answer("cancel my order").faq.id == "orders.cancel"


def test_reload_rejects_an_index_for_another_model(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    good = kb.manifest.version
    build_index(faq_dir, index_dir, "unused", encoder=HashingEncoder(name="other-model"), progress=False)
    assert kb.reload_if_changed() is False
    assert kb.manifest.version == good


def test_concurrent_answers_during_reloads(faq_dir, index_dir, encoder):
    kb = open_kb(faq_dir, index_dir, encoder)
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        try:
            while not stop.is_set():
                assert kb.answer("forgot password").candidates[0].faq_id == "account.password"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False, force=True)
        kb.reload_if_changed()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_old_versions_are_pruned(faq_dir, index_dir, encoder):
    for _ in range(6):
        build_index(faq_dir, index_dir, "unused", encoder=encoder, progress=False, force=True)
    versions = [p for p in (index_dir / "versions").iterdir()]
    assert 1 <= len(versions) <= 3
    assert current_version_dir(index_dir) in versions
    assert not list(index_dir.glob(".tmp-*"))


def test_bad_thresholds_file_fails_before_any_build(faq_dir, index_dir, encoder, tmp_path):
    from knowledge_base.policy import ThresholdsError

    with pytest.raises(ThresholdsError):
        KnowledgeBase.open(faq_dir=faq_dir, index_dir=index_dir, encoder=encoder, thresholds=tmp_path / "nope.json")
    assert encoder.calls == 0
    assert not (index_dir / "CURRENT").exists()


def test_calibrated_thresholds_are_used(faq_dir, index_dir, encoder, tmp_path):
    strict = tmp_path / "strict.json"
    Thresholds(answer=0.999, suggest=0.99, margin=0.0).write(strict)
    kb = KnowledgeBase.open(faq_dir=faq_dir, index_dir=index_dir, encoder=encoder, thresholds=strict)
    assert kb.answer("how can I cancel my order").rule == "fallback"
