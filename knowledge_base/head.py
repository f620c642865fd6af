"""A linear classifier over embeddings ("which FAQ is this?"), trained at build time.

Nearest neighbour only asks "which single phrasing is closest"; a multinomial logistic
regression over all phrasings learns which directions separate neighbouring FAQs. Its
log-probability enters the score as a penalty (0 when it is sure, negative when the
probability is spread over several FAQs), which both fixes near-ties and lowers the score
of out-of-scope queries that sit between FAQs. Training is seconds for thousands of
phrasings; above `max_faqs` it is skipped (the scorer then uses the dense part only).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadConfig:
    enabled: bool = True
    C: float = 10.0  # weak regularisation: phrasings are few and already well spread
    max_iter: int = 300
    max_faqs: int = 5000
    max_vectors: int = 200_000


def train_head(vectors: np.ndarray, rows: np.ndarray, n_faqs: int, config: HeadConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """(weights (n_faqs, dim), bias (n_faqs,)) or None when a head does not apply."""
    if not config.enabled or n_faqs < 2 or n_faqs > config.max_faqs or len(vectors) > config.max_vectors:
        return None
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=config.C, max_iter=config.max_iter)
    with warnings.catch_warnings():
        # Not fully converged after max_iter is fine for ranking; the warning is noise here.
        warnings.simplefilter("ignore")
        clf.fit(vectors, rows)
    weights = np.zeros((n_faqs, vectors.shape[1]), dtype=np.float32)
    bias = np.zeros(n_faqs, dtype=np.float32)
    if len(clf.classes_) == 2:  # sklearn stores one row for the binary case
        w, b = clf.coef_[0], clf.intercept_[0]
        weights[clf.classes_[1]], bias[clf.classes_[1]] = w / 2, b / 2
        weights[clf.classes_[0]], bias[clf.classes_[0]] = -w / 2, -b / 2
    else:
        weights[clf.classes_] = clf.coef_
        bias[clf.classes_] = clf.intercept_
    return weights, bias


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
