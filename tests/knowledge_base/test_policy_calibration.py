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


def test_clear_winner_zone_answers_lower_scores_only_with_a_wide_margin():
    t = Thresholds(answer=0.55, suggest=0.12, margin=0.05, clear_answer=0.35, clear_margin=0.25)
    assert t.decide(0.40, 0.10) == "answer"  # clear winner: 0.30 ahead of the runner-up
    assert t.decide(0.40, 0.20) == "suggest"  # same score, runner-up too close
    assert t.decide(0.30, 0.00) == "suggest"  # below the zone's score floor, however clear
    assert t.decide(0.10, 0.00) == "fallback"  # below the suggestion floor
    assert Thresholds(answer=0.55, suggest=0.12, margin=0.05).decide(0.40, 0.10) == "suggest"  # zone off


def test_clear_winner_zone_is_validated_and_round_trips(tmp_path):
    with pytest.raises(ThresholdsError):
        Thresholds(answer=0.55, suggest=0.3, clear_answer=0.35)  # margin missing
    with pytest.raises(ThresholdsError):
        Thresholds(answer=0.55, suggest=0.4, clear_answer=0.35, clear_margin=0.25)  # below suggest
    with pytest.raises(ThresholdsError):
        Thresholds(answer=0.55, suggest=0.1, margin=0.1, clear_answer=0.35, clear_margin=0.05)  # narrower margin
    t = Thresholds(answer=0.55, suggest=0.12, margin=0.05, clear_answer=0.35, clear_margin=0.25)
    t.write(tmp_path / "t.json")
    back = load_thresholds(tmp_path / "t.json")
    assert (back.clear_answer, back.clear_margin) == (0.35, 0.25)
    assert back.decide(0.40, 0.10) == "answer"


def test_shipped_defaults_answer_clear_winners_and_offer_buttons_low():
    t = default_thresholds()
    assert t.clear_answer is not None and t.suggest < t.clear_answer < t.answer
    # "I want a refund for a broken blender": request_refund top at ~0.29, below the old
    # suggestion threshold 0.32, so the customer got a plain fallback; now buttons.
    assert t.decide(0.29, 0.22) == "suggest"


def test_calibration_finds_a_clear_winner_zone_when_wide_margins_are_right():
    """High scores are right even with a close runner-up; lower scores are right only when
    they win clearly, and out-of-scope queries sit at those scores with narrow margins: one
    (answer, margin) pair cannot have both, the clear-winner zone can."""
    rng = np.random.default_rng(3)
    ids, scores, expected = [], [], []
    for _ in range(400):  # high, runner-up close, right
        top = rng.uniform(0.6, 0.9)
        ids.append(["a", "b"]); scores.append([top, top - rng.uniform(0.06, 0.2)]); expected.append("a")
    for _ in range(400):  # lower, clear winner, right
        top = rng.uniform(0.38, 0.5)
        ids.append(["a", "b"]); scores.append([top, top - rng.uniform(0.3, 0.4)]); expected.append("a")
    for _ in range(300):  # out of scope: same lower scores, narrow margins
        top = rng.uniform(0.3, 0.5)
        ids.append(["b", "a"]); scores.append([top, top - rng.uniform(0.0, 0.15)]); expected.append(None)
    data = CalibrationInput(ids, scores, expected)
    zoned = calibrate(data, score_name="s", max_wrong=0.02)
    plain = calibrate(data, score_name="s", max_wrong=0.02, clear_zone=False)
    assert plain.clear_answer is None and zoned.clear_answer is not None
    assert zoned.clear_answer < zoned.answer and zoned.clear_margin > zoned.margin
    assert zoned.notes["dev_metrics"]["wrong"] <= 0.02
    assert zoned.notes["dev_metrics"]["answered_correct"] > plain.notes["dev_metrics"]["answered_correct"] + 0.2
    assert zoned.notes["dev_metrics"]["oos_rejected"] >= 0.95
