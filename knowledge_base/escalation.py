"""When to offer a human: the rule from the issue, as a pure function the actions call.

"Two thumbs-down or two fallbacks in a row offer a human." Events are what happened in
one conversation, oldest first: the rules of KB decisions ("answer", "suggest",
"fallback", ...), feedback ("thumbs_up", "thumbs_down") and "human_offered" (the offer was
made; counting starts again after it, so the bot does not repeat the offer every turn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

THUMBS_UP = "thumbs_up"
THUMBS_DOWN = "thumbs_down"
HUMAN_OFFERED = "human_offered"
FEEDBACK = {THUMBS_UP, THUMBS_DOWN}


@dataclass(frozen=True)
class EscalationPolicy:
    max_thumbs_down: int = 2
    max_fallbacks_in_a_row: int = 2

    def should_offer_human(self, events: Sequence[str]) -> bool:
        since = list(events)
        if HUMAN_OFFERED in since:
            since = since[len(since) - since[::-1].index(HUMAN_OFFERED):]
        if sum(1 for e in since if e == THUMBS_DOWN) >= self.max_thumbs_down:
            return True
        # Fallbacks "in a row": consecutive KB outcomes at the end, feedback clicks ignored.
        outcomes = [e for e in since if e not in FEEDBACK]
        run = 0
        for event in reversed(outcomes):
            if event != "fallback":
                break
            run += 1
        return run >= self.max_fallbacks_in_a_row
