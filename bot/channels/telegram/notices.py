"""What the bot says on its own behalf on Telegram (not answers from Rasa)."""

from __future__ import annotations

TEXT_ONLY = "Sorry, I can read text only. Please type your question in words."
EDITS_NOT_READ = (
    "I only read new messages, not edits. Please send the corrected text as a new message."
)
UNKNOWN_BUTTON = "This button is no longer available. Please type your question instead."
# Telegram needs text on every message; Rasa may send buttons without any.
BUTTONS_WITHOUT_TEXT = "Please choose:"


def too_long(length: int, limit: int) -> str:
    return (
        f"Your message is too long for me ({length} characters, limit {limit}). "
        "Please shorten it or send it in parts."
    )
