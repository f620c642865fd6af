"""The answer policy: from ranked FAQ scores to answer / suggest / fallback.

Thresholds on the top FAQ's score plus margin rules:
- answer    score >= answer and (score - runner-up) >= margin, or
            score >= clear_answer and (score - runner-up) >= clear_margin (the top FAQ wins
            clearly, so a lower score is enough)
- suggest   score >= suggest (offer the top 2-3 as "Did you mean ...")
- fallback  otherwise (ask to rephrase, then offer a human)
The margin rule exists because "close to two different FAQs" is the typical shape of a
wrong answer: the query is in the domain but ambiguous, and buttons are the honest reply.
The second answer zone is its converse: a customer's own wording often scores well below
the FAQ's phrasings (0.4-0.55) yet points at one FAQ only, and such queries are answered
right far more often than their score alone says (docs/knowledge_base.md, "Answering more").
The score floor of that zone is what keeps out-of-scope questions out: they rarely reach it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .records import RULE_ANSWER, RULE_FALLBACK, RULE_SUGGEST

logger = logging.getLogger(__name__)


class ThresholdsError(ValueError):
    pass


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    margin: float = 0.0
    # Which score these thresholds are for; a mismatch with the index means they were
    # calibrated for a different scorer and should not be trusted silently.
    score: str = ""
    source: str = "default"
    notes: dict[str, Any] = field(default_factory=dict)
    # The clear-winner zone; both None = off (answer only above `answer`).
    clear_answer: float | None = None
    clear_margin: float | None = None

    def __post_init__(self) -> None:
        if not (self.suggest <= self.answer):
            raise ThresholdsError(f"suggest threshold {self.suggest} must not exceed answer threshold {self.answer}")
        if self.margin < 0:
            raise ThresholdsError(f"margin {self.margin} must be >= 0")
        if (self.clear_answer is None) != (self.clear_margin is None):
            raise ThresholdsError("clear_answer and clear_margin go together (both set, or neither)")
        if self.clear_answer is not None and self.clear_margin is not None:
            if not (self.suggest <= self.clear_answer <= self.answer):
                raise ThresholdsError(f"clear_answer {self.clear_answer} must lie between suggest {self.suggest} "
                                      f"and answer {self.answer}")
            if self.clear_margin < self.margin:
                raise ThresholdsError(f"clear_margin {self.clear_margin} must be >= margin {self.margin}")

    def answers(self, score: float, runner_up: float) -> bool:
        gap = score - runner_up
        if score >= self.answer and gap >= self.margin:
            return True
        return (self.clear_answer is not None and self.clear_margin is not None
                and score >= self.clear_answer and gap >= self.clear_margin)

    def decide(self, score: float, runner_up: float) -> str:
        if self.answers(score, runner_up):
            return RULE_ANSWER
        if score >= self.suggest:
            return RULE_SUGGEST
        return RULE_FALLBACK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Thresholds":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ThresholdsError(f"cannot read thresholds {path}: {exc}") from None
        if not isinstance(data, dict) or "answer" not in data or "suggest" not in data:
            raise ThresholdsError(f"thresholds {path} must be a JSON object with 'answer' and 'suggest'")
        try:
            return cls(
                answer=float(data["answer"]),
                suggest=float(data["suggest"]),
                margin=float(data.get("margin", 0.0)),
                score=str(data.get("score", "")),
                source=str(data.get("source", str(path))),
                notes=dict(data.get("notes", {})),
                clear_answer=_optional_float(data.get("clear_answer")),
                clear_margin=_optional_float(data.get("clear_margin")),
            )
        except (TypeError, ValueError) as exc:
            raise ThresholdsError(f"thresholds {path}: {exc}") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
