"""A small offline sentiment scorer for customer messages (English).

Method (a pared-down VADER, Hutto & Gilbert 2014):

1. Tokenise into words; each word found in ``LEXICON`` contributes its valence
   (-3 very negative .. +3 very positive), multi-word phrases first ("not happy" is
   handled by negation, "waste of money" is a phrase).
2. An intensifier right before a word ("very", "so", "extremely") scales it up, a
   dampener ("slightly", "a bit") scales it down.
3. Negation: a negator ("not", "never", "don't", "no"...) within the three words before a
   sentiment word flips and weakens it (x -0.74, as in VADER: "not good" is mildly
   negative, not as negative as "bad").
4. "but": words after the last "but" count 1.5x, words before it 0.5x (the customer's
   point usually comes after it).
5. Emphasis: a word in CAPITALS (in a message that is not all capitals) counts 1.5x;
   each "!" (up to 3) pushes the total 0.3 further from zero.
6. The sum s is squashed into [-1, 1] with s / sqrt(s^2 + 15).

Limits: English only; no sarcasm, irony or domain sense ("the price dropped" is good
news but "the call dropped" is not); misspellings are missed; a short message with one
strong word scores strongly. It is a trigger for a human to look, not a verdict: the
threshold (``HandoffPolicy.negative_sentiment_threshold``, default -0.5) is set so that
one clearly negative sentence escalates and mild complaints do not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LEXICON: dict[str, float] = {
    # negative
    "angry": -3, "furious": -3.5, "outraged": -3.5, "livid": -3.5, "disgusted": -3,
    "disgusting": -3, "terrible": -3, "horrible": -3, "awful": -3, "worst": -3.5,
    "useless": -2.5, "pathetic": -3, "ridiculous": -2.5, "unacceptable": -3,
    "disgrace": -3, "scam": -3.5, "fraud": -3.5, "rip-off": -3, "ripoff": -3, "liar": -3,
    "lies": -2.5, "lied": -2.5, "cheated": -3, "stolen": -2.5, "stole": -2.5,
    "incompetent": -3, "rude": -2.5, "hate": -3, "hated": -3, "annoyed": -2,
    "annoying": -2, "frustrated": -2.5, "frustrating": -2.5, "fed": -1, "upset": -2,
    "disappointed": -2.2, "disappointing": -2.2, "unhappy": -2.2, "sad": -1.5,
    "bad": -2, "poor": -2, "worse": -2.5, "wrong": -1.5, "broken": -1.8, "damaged": -1.8,
    "missing": -1.2, "lost": -1.2, "late": -1, "delayed": -1.2, "never": -0.5,
    "problem": -1, "problems": -1, "issue": -0.6, "complaint": -1.5, "complain": -1.5,
    "fail": -2, "failed": -2, "failure": -2, "unresolved": -1.5, "waste": -2.2,
    "wasted": -2.2, "nightmare": -3, "joke": -1.5, "shocking": -2.5, "appalling": -3,
    "sucks": -2.5, "crap": -2.5, "rubbish": -2.5, "garbage": -2.5, "hopeless": -2.5,
    "ignored": -2, "ignoring": -2, "stupid": -2.5, "idiot": -3, "idiots": -3,
    "unfair": -2, "overcharged": -2.5, "refuse": -1.2, "refused": -1.5, "cancel": -0.5,
    "worried": -1.5, "confused": -1, "sorry": -0.3, "unusable": -2.5, "slow": -1.2,
    "nobody": -1, "worthless": -3, "dissatisfied": -2.2, "mad": -2.2, "sick": -1.5,
    "lawyer": -2, "sue": -2.5, "chargeback": -2,
    # positive
    "good": 1.9, "great": 3, "excellent": 3.2, "amazing": 3, "awesome": 3,
    "fantastic": 3.2, "wonderful": 3, "perfect": 3, "love": 3, "loved": 3,
    "happy": 2.7, "glad": 2, "pleased": 2.2, "satisfied": 2, "thanks": 1.9,
    "thank": 1.5, "helpful": 2, "nice": 1.8, "fine": 0.8, "ok": 0.9, "okay": 0.9,
    "quick": 1, "fast": 1, "easy": 1.5, "solved": 1.8, "resolved": 1.5, "works": 1.2,
    "appreciate": 2, "appreciated": 2, "brilliant": 3, "friendly": 2, "polite": 1.7,
    "recommend": 1.5, "best": 3, "well": 1, "better": 1.9, "cool": 1.3, "kind": 1.8,
}

PHRASES: dict[str, float] = {
    "waste of money": -3, "waste of time": -3, "fed up": -2.5, "sick of": -2.5,
    "had enough": -2.5, "not acceptable": -3, "no one": -1, "rip off": -3,
    "never again": -3, "thank you": 2, "well done": 2.5, "no problem": 1,
    "no worries": 1, "not bad": 1.2, "does not work": -2, "doesn't work": -2,
    "still waiting": -2, "want my money back": -2.5,
}

NEGATORS = frozenset({
    "not", "no", "never", "none", "nothing", "neither", "nor", "without", "cannot",
    "can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't",
    "isnt", "wasn't", "wasnt", "aren't", "arent", "won't", "wont", "wouldn't", "wouldnt",
    "haven't", "havent", "hasn't", "hasnt", "shouldn't", "couldn't", "hardly",
})

BOOSTERS: dict[str, float] = {
    "very": 0.3, "really": 0.3, "so": 0.3, "extremely": 0.45, "incredibly": 0.45,
    "absolutely": 0.4, "completely": 0.35, "totally": 0.35, "utterly": 0.45,
    "seriously": 0.3, "truly": 0.3, "super": 0.3, "too": 0.2, "most": 0.25,
    "slightly": -0.3, "somewhat": -0.3, "bit": -0.3, "little": -0.25, "kinda": -0.3,
    "barely": -0.35, "quite": -0.1,
}

NEGATION_SCALE = -0.74
CAPS_BOOST = 1.5
EXCLAMATION_STEP = 0.3
MAX_EXCLAMATIONS = 3
NORMALISATION_ALPHA = 15.0
DEFAULT_THRESHOLD = -0.5

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass(frozen=True)
class SentimentScore:
    score: float  # in [-1, 1]
    # (word or phrase, contribution) for explaining the score to an agent.
    contributions: tuple[tuple[str, float], ...]

    def is_negative(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score <= threshold


def score(text: str) -> float:
    """Sentiment of ``text`` in [-1, 1]; 0 when nothing in it carries sentiment."""
    return analyse(text).score


def is_negative(text: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return analyse(text).is_negative(threshold)


def analyse(text: str) -> SentimentScore:
    raw_tokens = _WORD.findall(text)
    tokens = [t.lower().strip("'-") for t in raw_tokens]
    shouting_everywhere = bool(raw_tokens) and all(
        t.isupper() for t in raw_tokens if len(t) > 1
    )
    but_index = max((i for i, t in enumerate(tokens) if t == "but"), default=-1)

    contributions: list[tuple[str, float]] = []
    i = 0
    while i < len(tokens):
        length, valence, label = _match(tokens, i)
        if valence == 0.0:
            i += 1
            continue
        valence = _with_boosters(tokens, i, valence)
        if any(t in NEGATORS for t in tokens[max(0, i - 3):i]) and label not in PHRASES:
            valence *= NEGATION_SCALE
        word = raw_tokens[i]
        if not shouting_everywhere and length == 1 and len(word) > 1 and word.isupper():
            valence *= CAPS_BOOST
        if but_index >= 0:
            valence *= 1.5 if i > but_index else 0.5
        contributions.append((label, valence))
        i += length

    total = sum(v for _, v in contributions)
    exclamations = min(text.count("!"), MAX_EXCLAMATIONS)
    if total and exclamations:
        total += math.copysign(EXCLAMATION_STEP * exclamations, total)
    normalised = total / math.sqrt(total * total + NORMALISATION_ALPHA) if total else 0.0
    return SentimentScore(max(-1.0, min(1.0, normalised)), tuple(contributions))


def _match(tokens: list[str], i: int) -> tuple[int, float, str]:
    """(tokens consumed, valence, label) of the longest lexicon entry starting at i."""
    for length in (4, 3, 2):
        phrase = " ".join(tokens[i:i + length])
        if len(tokens) - i >= length and phrase in PHRASES:
            return length, PHRASES[phrase], phrase
    return 1, LEXICON.get(tokens[i], 0.0), tokens[i]


def _with_boosters(tokens: list[str], i: int, valence: float) -> float:
    # Only the two words right before count: "very very bad" is stronger than "very bad".
    for previous in tokens[max(0, i - 2):i]:
        step = BOOSTERS.get(previous)
        if step is not None:
            valence *= 1 + step
    return valence
