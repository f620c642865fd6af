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

DEFAULT_THRESHOLDS = Thresholds(answer=0.70, suggest=0.45, margin=0.03, score=SCORE_NAME, source="default")


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
