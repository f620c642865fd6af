"""What of a long customer message the bot reads: a summary window.

A 4,000-character message scores on its length, not its content: a bag-of-n-grams
classifier sees hundreds of features of every intent at once (a long story reads as a
complaint), and one sentence embedding of a whole story blurs the question in it. People
put what they want either first ("My parcel never arrived. ...") or in one question
somewhere ("... so can I still return it?"). The window is therefore the opening sentences
up to OPENING_CHARS, plus the most question-like sentence of the rest when there is one;
a sentence repeated (pasted twice, a signature in every paragraph) counts once.

Only what is sent to Rasa (NLU and, through the tracker, the FAQ search) is windowed: the
gateway stores the whole message, and agents and reviewers see it all.
"""

from __future__ import annotations

import re

# Messages up to this length are read whole: short enough for NLU and the FAQ index.
WINDOW_FROM_CHARS = 400
OPENING_CHARS = 300
QUESTION_CHARS = 200

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_QUESTION_START = re.compile(
    r"^(how|what|when|where|why|which|who|whom|whose|can|could|would|will|do|does|did|is|are|"
    r"was|were|should|shall|may|might|have|has|am)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(i want|i need|i would like|i'd like|please|help me|can you|could you|let me know|"
    r"tell me|is it possible|i wish|i'm looking for|how do i|how can i)\b",
    re.IGNORECASE,
)
_PAYLOAD = re.compile(r"^/[A-Za-z_]")


def sentences(text: str) -> list[str]:
    """Sentences, with run-ons cut into word-aligned pieces of at most QUESTION_CHARS (a
    message typed without full stops still has its question found)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words = (sentence or "").split()
        current: list[str] = []
        for word in words:
            if current and len(" ".join(current)) + len(word) + 1 > QUESTION_CHARS:
                pieces.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            pieces.append(" ".join(current))
    return pieces


def _distinct(parts: list[str]) -> list[str]:
    """Sentences once each: pasted or repeated text would otherwise fill the window."""
    seen: set[str] = set()
    out = []
    for part in parts:
        key = " ".join(part.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(part)
    return out


def question_score(sentence: str) -> int:
    """How much a sentence reads like what the customer wants to know or have done."""
    score = 0
    if sentence.rstrip().endswith("?"):
        score += 3
    if _QUESTION_START.match(sentence.lstrip("\"'(- ")):
        score += 2
    if _REQUEST.search(sentence):
        score += 1
    return score


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:")


def summary_window(text: str) -> str:
    """The part of ``text`` the bot scores; ``text`` itself when it is short."""
    if len(text) <= WINDOW_FROM_CHARS or _PAYLOAD.match(text):
        return text
    parts = _distinct(sentences(text))
    if not parts:
        return _clip(text.strip(), OPENING_CHARS)
    opening: list[str] = []
    used = 0
    for sentence in parts:
        if opening and used + len(sentence) + 1 > OPENING_CHARS:
            break
        opening.append(_clip(sentence, OPENING_CHARS))
        used += len(opening[-1]) + 1
    rest = parts[len(opening):]
    # The last of the best: a closing question usually says what the story was for.
    best = max(reversed(rest), key=question_score, default=None)
    window = " ".join(opening)
    if best is not None and question_score(best) >= 2:
        window += " " + _clip(best, QUESTION_CHARS)
    return window
