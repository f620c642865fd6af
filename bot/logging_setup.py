"""Logging for Helpline processes: one format, level from settings."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # Libraries that log every request or model detail at INFO drown the useful lines.
    # python-telegram-bot logs request parameters (message texts) at DEBUG.
    # faiss's loader tries its AVX512/AVX2 builds first and logs each missing one with a
    # ModuleNotFoundError at INFO before loading the generic build: expected, not a fault.
    for noisy in ("httpx", "sentence_transformers", "sanic.access", "engineio", "socketio", "telegram", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
