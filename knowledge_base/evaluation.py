"""Evaluation over labelled queries: the metrics of the interchange format.

Definitions (exactly as the issue states them):
  top1             in-scope queries whose top FAQ is right / in-scope
  answered_correct in-scope queries answered directly with the right FAQ / in-scope
  wrong            queries answered directly with a wrong FAQ / queries answered directly
                   (an answered out-of-scope query is a wrong answer)
  oos_rejected     out-of-scope queries not answered directly / out-of-scope (None if none)
  accuracy         (in-scope answered right + out-of-scope rejected) / all
Latency is measured per query through KnowledgeBase.answer, i.e. what a user waits for.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from .facade import KnowledgeBase
from .records import RULE_ANSWER, RULE_SUGGEST

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one labelled query."""

    expected: str | None
    top: str | None
    top3: tuple[str, ...]
    rule: str
    score: float
    ms: float


def run_queries(kb: KnowledgeBase, queries: Sequence[tuple[str, str | None]], *, progress: bool = True) -> list[Outcome]:
    iterator: Iterable[tuple[str, str | None]] = queries
    if progress:
        from tqdm import tqdm

        iterator = tqdm(queries, desc="evaluating", unit="query")
    outcomes = []
    for text, expected in iterator:
        started = time.perf_counter()
        decision = kb.answer(text)
        ms = (time.perf_counter() - started) * 1000
        top3 = tuple(c.faq_id for c in decision.candidates)
        outcomes.append(Outcome(expected, top3[0] if top3 else None, top3, decision.rule, decision.score, ms))
    return outcomes


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    in_scope = [o for o in outcomes if o.expected is not None]
    oos = [o for o in outcomes if o.expected is None]
    answered = [o for o in outcomes if o.rule == RULE_ANSWER]
    right = sum(1 for o in in_scope if o.rule == RULE_ANSWER and o.top == o.expected)
    wrong = sum(1 for o in answered if o.top != o.expected)
    rejected = sum(1 for o in oos if o.rule != RULE_ANSWER)
    suggested = [o for o in in_scope if o.rule == RULE_SUGGEST]
    ms = np.array([o.ms for o in outcomes]) if outcomes else np.zeros(1)
    return {
        "n": len(outcomes),
        "n_in_scope": len(in_scope),
        "n_oos": len(oos),
        "top1": _ratio(sum(1 for o in in_scope if o.top == o.expected), len(in_scope)),
        "top3": _ratio(sum(1 for o in in_scope if o.expected in o.top3), len(in_scope)),
        "answered_correct": _ratio(right, len(in_scope)),
        "answer_rate": _ratio(len(answered), len(outcomes)),
        "wrong": _ratio(wrong, len(answered)) if answered else 0.0,
        "oos_rejected": _ratio(rejected, len(oos)),
        # Of in-scope queries shown buttons, how often the right FAQ was among them.
        "suggest_hit": _ratio(sum(1 for o in suggested if o.expected in o.top3), len(suggested)),
        "accuracy": _ratio(right + rejected, len(outcomes)),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }
