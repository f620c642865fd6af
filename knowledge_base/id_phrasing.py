"""An FAQ id that reads as words is one more way of asking the question.

Why: people name FAQs after what they are about (`card_arrival`, `reset-password`,
`RefundNotShowingUp`), and such a name is a short, clean statement of the FAQ's topic,
often closer to what the FAQ's neighbours do *not* share than any one customer phrasing.
Label names are a known help for few-shot intent detection; here, adding the id as one
extra phrasing raised BANKING77 top-1 with 10 phrasings per FAQ by 0.005-0.007 (three
measurements, docs/knowledge_base.md). Ids that are codes (`faq-0012`, `a3f9c1`, UUIDs)
say nothing and are left out, so the method costs nothing where it cannot help.
"""

from __future__ import annotations

import re

from .records import phrasing_key

_SEPARATORS = re.compile(r"[\W_]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")
_VOWELS = frozenset("aeiouy")
# A longer ASCII token without a vowel is a code, not a word ("xkcdq", "bcdfg").
_MAX_VOWELLESS = 4


def _words(faq_id: str) -> list[str]:
    return [
        part.lower()
        for chunk in _SEPARATORS.split(faq_id)
        for part in _CAMEL_BOUNDARY.split(chunk)
        if part
    ]


def _is_code(word: str) -> bool:
    return word.isascii() and len(word) > _MAX_VOWELLESS and not (_VOWELS & set(word))


def id_phrasing(faq_id: str) -> str | None:
    """The id as lower-case words ("card_arrival" -> "card arrival"), or None for a code.

    An id qualifies when every part is letters only (no digits: "faq12", hex and UUIDs
    drop out), no long part lacks a vowel, and at least one part is a word of three or more
    letters."""
    words = _words(faq_id)
    if not words or not all(word.isalpha() for word in words):
        return None
    if any(_is_code(word) for word in words):
        return None
    if not any(len(word) >= 3 for word in words):
        return None
    return " ".join(words)


def texts_with_id(faq_id: str, texts: list[str]) -> list[str]:
    """`texts` plus the id's phrasing, unless it is a code or already one of the texts."""
    extra = id_phrasing(faq_id)
    if extra is None or any(phrasing_key(t) == extra for t in texts):
        return list(texts)
    return [*texts, extra]
