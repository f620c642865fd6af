"""Messages and buttons shared by several actions."""

from __future__ import annotations

import json

NONE_OF_THESE = "None of these"
OFFER_HUMAN = "I'm sorry I couldn't help with that. Would you like to talk to a person from our team?"


def payload(intent: str, **entities: str) -> str:
    """A Rasa button payload, "/intent{...}", compact so it fits channel limits."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"))


def human_offer_buttons(reason: str) -> list[dict[str, str]]:
    # The reason rides along so the ticket records why the bot gave up.
    return [
        {"title": "Yes, connect me", "payload": payload("request_human", escalation_reason=reason)},
        {"title": "No, thanks", "payload": payload("deny")},
    ]


def feedback_buttons(faq_id: str) -> list[dict[str, str]]:
    return [
        {"title": "👍 Helpful", "payload": payload("feedback", helpful="yes", faq_id=faq_id)},
        {"title": "👎 Not helpful", "payload": payload("feedback", helpful="no", faq_id=faq_id)},
    ]
