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
    for noisy in ("httpx", "sentence_transformers", "sanic.access", "engineio", "socketio", "telegram"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
