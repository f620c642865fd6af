"""The survey's button payloads: how they are written, and strict parsing of what comes back.

Every survey payload starts with ``/csat_``, a prefix no Rasa intent uses (a test checks
domain.yml), and the gateway takes such text away from Rasa altogether. Each payload names
its survey by id, so a button pressed late or copied from another conversation is
recognised as such instead of being applied to whatever survey is open now:

    /csat_rate{"survey":12,"rating":4}
    /csat_recommend{"survey":12,"answer":"yes"}
    /csat_skip{"survey":12}

Parsing is strict: exactly these keys, integers that are not booleans, a rating 1-5,
"yes" or "no". Anything else under the prefix is ``Malformed`` (answered with a polite line).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

PREFIX = "/csat_"
RATINGS = range(1, 6)
MAX_SURVEY_ID = 2**31 - 1

_PAYLOAD = re.compile(r"^/csat_(?P<step>[a-z_]+)(?P<body>\{.*\})?$", re.DOTALL)

Step = Literal["rate", "recommend", "skip"]


@dataclass(frozen=True)
class SurveyAnswer:
    """A well-formed survey payload (not yet checked against the survey it names)."""

    step: Step
    survey_id: int
    rating: int | None = None
    would_recommend: bool | None = None

    @property
    def intent(self) -> str:
        """What the inbound message is annotated with in the transcript."""
        return f"csat_{self.step}"


@dataclass(frozen=True)
class Malformed:
    """Text under the survey prefix that is not one of our payloads."""

    reason: str


def _compact(step: str, body: dict[str, Any]) -> str:
    return f"{PREFIX}{step}" + json.dumps(body, separators=(",", ":"))


def rate_payload(survey_id: int, rating: int) -> str:
    return _compact("rate", {"survey": survey_id, "rating": rating})


def recommend_payload(survey_id: int, yes: bool) -> str:
    return _compact("recommend", {"survey": survey_id, "answer": "yes" if yes else "no"})


def skip_payload(survey_id: int) -> str:
    return _compact("skip", {"survey": survey_id})


def is_survey_text(text: str) -> bool:
    return text.strip().startswith(PREFIX)


def is_survey_payload(payload: str) -> bool:
    """A button of ours (used by channels to lay survey buttons out side by side)."""
    return isinstance(parse(payload), SurveyAnswer)


def _integer(value: Any) -> int | None:
    # bool is an int in Python; true must not pass for survey 1 or rating 1.
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def parse(text: str) -> SurveyAnswer | Malformed | None:
    """None when the text is not under the survey prefix at all."""
    text = text.strip()
    if not text.startswith(PREFIX):
        return None
    match = _PAYLOAD.match(text)
    if match is None or match.group("body") is None:
        return Malformed("not a survey payload")
    try:
        body = json.loads(match.group("body"))
    except ValueError:
        return Malformed("body is not JSON")
    if not isinstance(body, dict):
        return Malformed("body is not an object")
    survey_id = _integer(body.get("survey"))
    if survey_id is None or not 1 <= survey_id <= MAX_SURVEY_ID:
        return Malformed("bad survey id")
    step = match.group("step")
    if step == "rate":
        rating = _integer(body.get("rating"))
        if set(body) != {"survey", "rating"} or rating is None or rating not in RATINGS:
            return Malformed("rating must be 1-5")
        return SurveyAnswer("rate", survey_id, rating=rating)
    if step == "recommend":
        answer = body.get("answer")
        if set(body) != {"survey", "answer"} or answer not in ("yes", "no"):
            return Malformed("answer must be yes or no")
        return SurveyAnswer("recommend", survey_id, would_recommend=answer == "yes")
    if step == "skip":
        if set(body) != {"survey"}:
            return Malformed("unexpected fields")
        return SurveyAnswer("skip", survey_id)
    return Malformed("unknown survey step")
