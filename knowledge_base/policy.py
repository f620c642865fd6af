"""The answer policy: from ranked FAQ scores to answer / suggest / fallback.

Two thresholds on the top FAQ's score plus a margin rule:
- answer    score >= answer and (score - runner-up) >= margin
- suggest   score >= suggest (offer the top 2-3 as "Did you mean ...")
- fallback  otherwise (ask to rephrase, then offer a human)
The margin rule exists because "close to two different FAQs" is the typical shape of a
wrong answer: the query is in the domain but ambiguous, and buttons are the honest reply.
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

    def __post_init__(self) -> None:
        if not (self.suggest <= self.answer):
            raise ThresholdsError(f"suggest threshold {self.suggest} must not exceed answer threshold {self.answer}")
        if self.margin < 0:
            raise ThresholdsError(f"margin {self.margin} must be >= 0")

    def decide(self, score: float, runner_up: float) -> str:
        if score >= self.answer and (score - runner_up) >= self.margin:
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
            )
        except (TypeError, ValueError) as exc:
            raise ThresholdsError(f"thresholds {path}: {exc}") from None
