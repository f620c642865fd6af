"""Test helpers (a module with a unique name: tests/ is not a package, and a tests package
called knowledge_base would shadow the real one)."""

from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest


class HashingEncoder:
    """Bag of words hashed into a small space: instant, deterministic, and lexical overlap
    still means similarity, which is all the plumbing tests need."""

    def __init__(self, dimension: int = 512, name: str = "test-hashing-encoder"):
        self.dimension = dimension
        self.name = name
        self.calls = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dimension] += 1.0 if (h >> 16) & 1 else -1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out


ORDERS_YML = """\
version: 1
faqs:
  - id: orders.cancel
    question: How do I cancel my order?
    phrasings:
      - cancel my order
      - I want to cancel a purchase
    answer: |
      You can cancel an order from My orders within two hours.
    category: orders
    tags: [orders, cancellation]
  - id: orders.track
    question: Where is my parcel?
    phrasings: [track my parcel, when will my package arrive]
    answer: Use the tracking link in your confirmation email.
    category: orders
"""

ACCOUNT_YML = """\
version: 1
faqs:
  - id: account.password
    question: How do I reset my password?
    phrasings: [forgot password, reset password link]
    answer: Click "Forgot password" on the login page.
    category: account
    language: en
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
