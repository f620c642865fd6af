"""Plain value types shared by every part of the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def phrasing_key(text: str) -> str:
    """Two phrasings that differ only in case or spacing are the same phrasing."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ: the canonical question, other ways people ask it, and the answer."""

    id: str
    question: str
    answer: str
    phrasings: list[str] = field(default_factory=list)
    category: str = ""
    tags: list[str] = field(default_factory=list)
    language: str = "en"

    def texts(self) -> list[str]:
        """Every text that should retrieve this FAQ (question first, no duplicates)."""
        seen: set[str] = set()
        out: list[str] = []
        for text in [self.question, *self.phrasings]:
            key = phrasing_key(text)
            if key and key not in seen:
                seen.add(key)
                out.append(text)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "phrasings": list(self.phrasings),
            "answer": self.answer,
            "category": self.category,
            "tags": list(self.tags),
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaqEntry":
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            answer=str(data.get("answer", "")),
            phrasings=[str(p) for p in data.get("phrasings", [])],
            category=str(data.get("category", "")),
            tags=[str(t) for t in data.get("tags", [])],
            language=str(data.get("language", "en")),
        )


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    question: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"faq_id": self.faq_id, "question": self.question, "score": round(float(self.score), 4)}


# Rules a Decision can carry. Callers branch on the first three; the others are
# variants of "do not answer" that explain why.
RULE_ANSWER = "answer"
RULE_SUGGEST = "suggest"
RULE_FALLBACK = "fallback"
RULE_EMPTY_QUERY = "empty_query"
RULE_EMPTY_INDEX = "empty_index"


@dataclass(frozen=True)
class Decision:
    """What the knowledge base decided for one query, with everything needed to audit it."""

    rule: str
    faq: FaqEntry | None
    score: float
    candidates: list[Candidate]
    model: str = ""
    index_version: str = ""
    # Extra evidence behind the rule (e.g. the margin to the runner-up); kept in the trail.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.rule == RULE_ANSWER and self.faq is not None

    def trail(self) -> dict[str, Any]:
        trail: dict[str, Any] = {
            # Only the FAQ actually given as the answer; suggestions live in top3.
            "faq_id": self.faq.id if self.faq is not None else None,
            "score": round(float(self.score), 4),
            "top3": [c.to_dict() for c in self.candidates[:3]],
            "rule": self.rule,
            "model": self.model,
            "index_version": self.index_version,
        }
        if self.details:
            trail["details"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.details.items()}
        return trail
