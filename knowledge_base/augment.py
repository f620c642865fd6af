"""Noisy copies of FAQ phrasings for encoder adaptation (training only, never indexed).

Why: with ten phrasings per FAQ the adaptation sees each one a few times and starts to
learn them by heart. A copy with a word or two dropped and two neighbouring words swapped
("still waiting on my card" -> "still on waiting card") keeps the meaning a customer
would recognise while changing the exact token sequence, so the encoder has to rely on
what the phrasings share. Same spirit as EDA (Wei and Zou, 2019), without synonym lists:
nothing here depends on the language or on a word list. Measured on BANKING77 with 10
phrasings per FAQ, see docs/knowledge_base.md.
"""

from __future__ import annotations

import random
from typing import Sequence

DROP_PROBABILITY = 0.15
SWAP_PROBABILITY = 0.5
# Shorter phrasings are left as they are: dropping one of three words often changes the
# question ("block my card" -> "my card").
MIN_WORDS = 4


def noisy_copy(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < MIN_WORDS:
        return text
    kept = [word for word in words if rng.random() > DROP_PROBABILITY] or words
    if len(kept) > 2 and rng.random() < SWAP_PROBABILITY:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return " ".join(kept)


def with_noisy_copies(groups: Sequence[Sequence[str]], copies: int, rng: random.Random) -> list[list[str]]:
    """Each group's phrasings followed by `copies` noisy copies of each (in the same order)."""
    return [[*group, *(noisy_copy(text, rng) for text in group for _ in range(copies))] for group in groups]
