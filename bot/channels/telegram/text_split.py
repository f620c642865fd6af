"""Splitting bot texts into pieces Telegram accepts.

Texts are sent as plain text (no parse_mode), so nothing needs escaping: a "*" or "<"
in an FAQ answer reaches the customer exactly as written.
"""

from __future__ import annotations

# Telegram's limit for one message. It counts UTF-16 code units (an emoji outside the
# Basic Multilingual Plane counts twice), so lengths here are measured the same way.
TELEGRAM_TEXT_LIMIT = 4096

# Prefer the coarsest boundary, but not one that leaves a piece shorter than this share
# of the limit: a hard cut is better than a long answer sent as a dozen scraps.
_MIN_PIECE_SHARE = 0.5
_SEPARATORS = ("\n\n", "\n", " ")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _longest_fitting_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units (never half a pair)."""
    head = text.encode("utf-16-le")[: limit * 2].decode("utf-16-le", errors="ignore")
    return len(head)


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` units, cut at paragraph, line or word boundaries.

    The separator at a cut is dropped (Telegram would strip it anyway); pieces that would
    be blank are left out, so a blank text gives no pieces.
    """
    pieces: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        fit = _longest_fitting_prefix(rest, limit)
        cut, skip = fit, 0
        for separator in _SEPARATORS:
            at = rest.rfind(separator, 0, fit)
            if at >= fit * _MIN_PIECE_SHARE:
                cut, skip = at, len(separator)
                break
        pieces.append(rest[:cut])
        rest = rest[cut + skip :]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]
