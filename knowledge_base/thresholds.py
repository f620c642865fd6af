"""Shipped default thresholds and loading of calibrated ones.

The defaults were chosen with `kb calibrate` on development data and checked on FAQs they
were not calibrated on (see docs/knowledge_base.md for the numbers and the procedure).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .policy import Thresholds
from .scoring import SCORE_NAME

logger = logging.getLogger(__name__)

# answer/margin: scripts/kb/default_thresholds.py, the setting with the best worst-case
# balanced objective over CLINC150 dev and BANKING77 with 17 intents held out as near-domain
# out-of-scope. Re-derived whenever the encoder's training changes: 0.68 / 0 with the pairs
# objective, 0.57 / 0.06 with prototypes, 0.545 / 0.05 with ids as phrasings and noisy
# copies.
# clear_answer/clear_margin (a clear winner is answered from 0.35): scripts/kb/decision_sweep.py
# on half of the demo FAQ's evaluation set plus CLINC150 out-of-scope questions, with at most
# 2% wrong answers and 95% of out-of-scope questions rejected; checked on the other half and
# on data/faq_eval/bitext_heldout.csv, never used to choose.
# suggest: the floor below which buttons are not worth showing. On the demo's held-out
# questions plus CLINC150 out-of-scope ones, 0.12 keeps buttons for 91% of the unanswered
# in-scope questions whose FAQ is in the top three (0.32 kept 49%) and shows them for 14% of
# out-of-scope questions (0.32: 3%): the largest difference between the two (Youden's J),
# and what `kb calibrate`'s own rule (90% of useful buttons kept) gives there.
DEFAULT_THRESHOLDS = Thresholds(answer=0.545, suggest=0.12, margin=0.05, score=SCORE_NAME, source="default",
                                clear_answer=0.35, clear_margin=0.25)


def default_thresholds() -> Thresholds:
    return DEFAULT_THRESHOLDS


def load_thresholds(path: Path) -> Thresholds:
    thresholds = Thresholds.read(Path(path))
    if thresholds.score and thresholds.score != SCORE_NAME:
        logger.warning(
            "thresholds in %s were calibrated for score %r, the index uses %r; recalibrate",
            path, thresholds.score, SCORE_NAME,
        )
    return thresholds
