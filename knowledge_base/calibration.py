"""Choosing thresholds from labelled dev data.

Objective (default "balanced"): maximise the mean of
  answered_correct (in-scope answered with the right FAQ / in-scope) and
  oos_rejected     (out-of-scope not answered / out-of-scope)
subject to wrong (wrong answers / answers) <= max_wrong. Balanced, not plain accuracy,
because dev sets hold far fewer out-of-scope queries than in-scope ones (CLINC150: 100 vs
3,000) while in production an unanswerable question is common; plain accuracy would simply
answer everything. Without out-of-scope queries the objective is answered_correct under the
same wrong-answer cap ("objective=accuracy" uses plain accuracy instead).

Robustness: the grid optimum on a few hundred queries is noisy, so we take every setting
within `tolerance` of the best objective and pick the median answer threshold among them
(the middle of the plateau rather than its edge), then the smallest margin that reaches it.

Then the clear-winner zone (policy.py): a lower score floor for queries whose top FAQ beats
the runner-up by a wider margin, searched together with the plain rule on a coarser grid
under the same wrong-answer cap, kept only when it raises the objective by more than
`tolerance` (`clear_zone=False`: off).

The suggest threshold is where `suggest_recall` of the in-scope queries that were not
answered but had the right FAQ in the top 3 still get buttons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .policy import Thresholds

logger = logging.getLogger(__name__)

MARGINS = tuple(round(x, 3) for x in np.arange(0.0, 0.301, 0.005))


@dataclass(frozen=True)
class CalibrationInput:
    top_ids: Sequence[Sequence[str]]  # per query, FAQ ids best first
    scores: Sequence[Sequence[float]]
    expected: Sequence[str | None]  # None = out of scope


def _arrays(data: CalibrationInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    top = np.array([s[0] if len(s) else 0.0 for s in data.scores], dtype=np.float64)
    runner = np.array([s[1] if len(s) > 1 else 0.0 for s in data.scores], dtype=np.float64)
    in_scope = np.array([e is not None for e in data.expected])
    correct = np.array([bool(ids) and e is not None and ids[0] == e for ids, e in zip(data.top_ids, data.expected)])
    in_top3 = np.array([e is not None and e in list(ids)[:3] for ids, e in zip(data.top_ids, data.expected)])
    return top, runner, in_scope, correct, in_top3


def answered_mask(top, runner, answer: float, margin: float,
                  clear_answer: float | None = None, clear_margin: float | None = None) -> np.ndarray:
    """The policy's answer rule (policy.Thresholds.answers) over arrays of scores."""
    gap = top - runner
    answered = (top >= answer) & (gap >= margin)
    if clear_answer is not None and clear_margin is not None:
        answered |= (top >= clear_answer) & (gap >= clear_margin)
    return answered


def evaluate_setting(top, runner, in_scope, correct, answer: float, margin: float,
                     clear_answer: float | None = None, clear_margin: float | None = None) -> dict[str, float]:
    answered = answered_mask(top, runner, answer, margin, clear_answer, clear_margin)
    n_in, n_oos = int(in_scope.sum()), int((~in_scope).sum())
    n_ans = int(answered.sum())
    right = int((answered & correct).sum())
    return {
        "answered_correct": right / n_in if n_in else 0.0,
        "wrong": (n_ans - right) / n_ans if n_ans else 0.0,
        "oos_rejected": 1 - int((answered & ~in_scope).sum()) / n_oos if n_oos else float("nan"),
        "accuracy": (right + int((~answered & ~in_scope).sum())) / len(top) if len(top) else 0.0,
        "answer_rate": n_ans / len(top) if len(top) else 0.0,
    }


def calibrate(
    data: CalibrationInput,
    *,
    score_name: str,
    max_wrong: float = 0.10,
    objective: str = "balanced",
    suggest_recall: float = 0.9,
    tolerance: float = 0.005,
    clear_zone: bool = True,
) -> Thresholds:
    if objective not in ("balanced", "accuracy"):
        raise ValueError(f"unknown objective {objective!r} (balanced or accuracy)")
    top, runner, in_scope, correct, in_top3 = _arrays(data)
    if not in_scope.any():
        raise ValueError("calibration needs in-scope queries (rows with a faq_id)")
    has_oos = bool((~in_scope).any())
    candidates = np.unique(np.round(np.quantile(top, np.linspace(0, 1, 201)), 4))
    results: list[tuple[float, float, float, dict[str, float]]] = []
    for answer in candidates:
        for margin in MARGINS:
            m = evaluate_setting(top, runner, in_scope, correct, float(answer), margin)
            if m["wrong"] > max_wrong:
                continue
            if objective == "accuracy":
                value = m["accuracy"]
            else:
                value = 0.5 * (m["answered_correct"] + m["oos_rejected"]) if has_oos else m["answered_correct"]
            results.append((value, float(answer), margin, m))
    if not results:
        # Nothing meets the wrong-answer cap: answer only the most confident few percent.
        answer = float(np.quantile(top, 0.99))
        logger.warning("no threshold keeps wrong answers <= %.2f; using the 99th percentile score %.3f", max_wrong, answer)
        best = (0.0, answer, 0.0, evaluate_setting(top, runner, in_scope, correct, answer, 0.0))
    else:
        best_value = max(r[0] for r in results)
        plateau = [r for r in results if r[0] >= best_value - tolerance]
        answers = sorted({r[1] for r in plateau})
        answer = answers[len(answers) // 2]
        best = max((r for r in plateau if r[1] == answer), key=lambda r: (r[0], -r[2]))
    _, answer, margin, metrics = best
    clear_answer = clear_margin = None
    if clear_zone and results:
        found = _clear_zone(top, runner, in_scope, correct, candidates, answer, margin, metrics,
                            max_wrong=max_wrong, objective=objective, has_oos=has_oos, tolerance=tolerance)
        if found is not None:
            clear_answer, clear_margin, answer, margin, metrics = found

    answered = answered_mask(top, runner, answer, margin, clear_answer, clear_margin)
    buttons_useful = in_scope & ~answered & in_top3
    if buttons_useful.any():
        suggest = float(np.quantile(top[buttons_useful], 1 - suggest_recall))
    else:
        suggest = answer - 0.15
    suggest = min(suggest, answer)
    notes: dict[str, Any] = {
        "objective": objective,
        "max_wrong": max_wrong,
        "n": int(len(top)),
        "n_in_scope": int(in_scope.sum()),
        "n_oos": int((~in_scope).sum()),
        "dev_metrics": {k: round(v, 4) for k, v in metrics.items() if v == v},
    }
    logger.info("calibrated: answer %.4f margin %.3f suggest %.4f -> %s", answer, margin, suggest, notes["dev_metrics"])
    if clear_answer is not None:
        suggest = min(suggest, clear_answer)
    return Thresholds(answer=round(answer, 4), suggest=round(suggest, 4), margin=margin, score=score_name,
                      source="calibrated", notes=notes,
                      clear_answer=None if clear_answer is None else round(clear_answer, 4),
                      clear_margin=clear_margin)


def _objective(m: dict[str, float], objective: str, has_oos: bool) -> float:
    if objective == "accuracy":
        return m["accuracy"]
    return 0.5 * (m["answered_correct"] + m["oos_rejected"]) if has_oos else m["answered_correct"]


def _clear_zone(top, runner, in_scope, correct, candidates, answer: float, margin: float, base: dict[str, float], *,
                max_wrong: float, objective: str, has_oos: bool, tolerance: float):
    """The plain rule plus clear-winner zone that most improves the objective under the same
    wrong-answer cap, or None when none beats the plain rule alone by `tolerance`.

    The plain rule may move up (a higher answer threshold, a smaller margin) once the zone
    answers the lower scores, so both are searched together on a coarser grid. Among the
    settings within `tolerance` of the best: the highest zone floor, then the widest zone
    margin (the most cautious way to get nearly the same gain)."""
    base_value = _objective(base, objective, has_oos)
    plain_answers = sorted({float(a) for a in candidates[::20] if a >= answer} | {answer})
    plain_margins = sorted({m for m in (0.0, 0.02, 0.05, 0.1) if m <= margin} | {margin})
    found: list[tuple[float, float, float, float, float, dict[str, float]]] = []
    for plain_answer in plain_answers:
        for plain_margin in plain_margins:
            for clear in candidates[::10]:
                if clear >= plain_answer:
                    continue
                for clear_margin in MARGINS[::4]:
                    if clear_margin < plain_margin:
                        continue
                    m = evaluate_setting(top, runner, in_scope, correct, plain_answer, plain_margin,
                                         float(clear), clear_margin)
                    if m["wrong"] > max_wrong:
                        continue
                    found.append((_objective(m, objective, has_oos), float(clear), clear_margin,
                                  plain_answer, plain_margin, m))
    if not found:
        return None
    best_value = max(f[0] for f in found)
    if best_value < base_value + tolerance:
        return None
    plateau = [f for f in found if f[0] >= best_value - tolerance]
    return max(plateau, key=lambda f: (f[1], f[2], f[3]))[1:]
