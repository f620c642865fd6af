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
# copies. suggest: between the calibrated suggest thresholds of those sets (~0.30-0.33).
DEFAULT_THRESHOLDS = Thresholds(answer=0.545, suggest=0.32, margin=0.05, score=SCORE_NAME, source="default")


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
