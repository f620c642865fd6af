import numpy as np
import pytest

from knowledge_base.calibration import CalibrationInput, calibrate
from knowledge_base.policy import Thresholds, ThresholdsError
from knowledge_base.thresholds import default_thresholds, load_thresholds


def test_rules():
    t = Thresholds(answer=0.7, suggest=0.4, margin=0.05)
    assert t.decide(0.8, 0.5) == "answer"
    assert t.decide(0.8, 0.78) == "suggest"  # too close to the runner-up
    assert t.decide(0.5, 0.1) == "suggest"
    assert t.decide(0.3, 0.1) == "fallback"


def test_invalid_thresholds():
    with pytest.raises(ThresholdsError):
        Thresholds(answer=0.3, suggest=0.5)
    with pytest.raises(ThresholdsError):
        Thresholds(answer=0.5, suggest=0.3, margin=-1)


def test_thresholds_file_round_trip_and_errors(tmp_path):
    t = Thresholds(answer=0.61, suggest=0.4, margin=0.02, score="x", notes={"n": 3})
    t.write(tmp_path / "t.json")
    assert load_thresholds(tmp_path / "t.json").answer == 0.61
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ThresholdsError):
        load_thresholds(tmp_path / "bad.json")
    with pytest.raises(ThresholdsError):
        load_thresholds(tmp_path / "missing.json")


def test_defaults_are_ordered():
    t = default_thresholds()
    assert 0 < t.suggest <= t.answer < 1


def synthetic(rng, n_in=600, n_oos=200):
    """In-scope scores high (and right 90% of the time), out-of-scope scores low."""
    ids, scores, expected = [], [], []
    for i in range(n_in):
        right = rng.random() < 0.9
        top = rng.normal(0.8 if right else 0.55, 0.06)
        ids.append(["a", "b", "c"] if right else ["b", "a", "c"])
        scores.append([top, top - abs(rng.normal(0.15, 0.05)), 0.1])
        expected.append("a")
    for i in range(n_oos):
        top = rng.normal(0.45, 0.08)
        ids.append(["b", "a", "c"])
        scores.append([top, top - 0.05, 0.1])
        expected.append(None)
    return CalibrationInput(ids, scores, expected)


def test_calibration_separates_and_respects_the_wrong_cap():
    t = calibrate(synthetic(np.random.default_rng(0)), score_name="s", max_wrong=0.05)
    assert 0.55 < t.answer < 0.75
    m = t.notes["dev_metrics"]
    assert m["wrong"] <= 0.05
    assert m["oos_rejected"] > 0.9 and m["answered_correct"] > 0.8
    assert t.suggest <= t.answer
    assert t.score == "s"


def test_calibration_without_out_of_scope_still_caps_wrong_answers():
    data = synthetic(np.random.default_rng(1), n_oos=0)
    t = calibrate(data, score_name="s", max_wrong=0.02)
    assert t.notes["n_oos"] == 0
    assert t.notes["dev_metrics"]["wrong"] <= 0.02


def test_calibration_needs_in_scope_queries():
    with pytest.raises(ValueError):
        calibrate(CalibrationInput([["a"]], [[0.5]], [None]), score_name="s")
