"""What a customer saw on the button they pressed, for staff transcripts.

A button press is stored as its payload (``/feedback{"helpful":"yes",...}``), which is what
the bot needs but not what staff should read. ``display_texts`` maps each inbound payload
to the title of the button with that payload on an earlier outbound message (the newest
offer wins: the same payload can be offered twice with different wording), and falls back
to a label read from the payload itself when no stored button matches (e.g. the offer is
older than the messages loaded). Typed text, and payload-shaped text that is none of our
buttons, maps to None: staff read ``text`` as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

# Same shape as the gateway's payload check (bot.pipeline.payload_of); kept here so the
# transcript package does not import the gateway.
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<rest>\{.*\})?$", re.DOTALL)

# actions.faq.NONE_SELECTED: the "None of these" button's faq_id.
_NONE_SELECTED = "(none)"

_PLAIN_LABELS = {
    "affirm": "Yes",
    "deny": "No",
    "request_human": "Talk to a person",
    "csat_skip": "No, thanks",
}


class TranscriptLine(Protocol):
    @property
    def direction(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def buttons(self) -> list[dict[str, Any]] | None: ...


def parse_payload(text: str) -> tuple[str, dict[str, Any]] | None:
    """("intent", entities) when the text is a button payload, else None."""
    match = _PAYLOAD.match((text or "").strip())
    if not match:
        return None
    try:
        entities = json.loads(match.group("rest") or "{}")
    except ValueError:
        return None
    return (match.group("intent"), entities) if isinstance(entities, dict) else None


def label_of_payload(intent: str, entities: Mapping[str, Any]) -> str | None:
    """A readable label when the pressed button is not in the transcript; None for
    payload-shaped text that is none of our buttons (staff read it as typed)."""
    if intent == "feedback":
        helpful = str(entities.get("helpful", "")).lower()
        if helpful in ("yes", "no"):
            return "Helpful" if helpful == "yes" else "Not helpful"
    if intent == "faq_select" and entities.get("faq_id"):
        faq_id = str(entities["faq_id"])
        return "None of these" if faq_id == _NONE_SELECTED else faq_id
    if intent == "csat_rate" and "rating" in entities:
        return str(entities["rating"])
    if intent == "csat_recommend" and entities.get("answer") in ("yes", "no"):
        return "Yes" if entities["answer"] == "yes" else "No"
    return _PLAIN_LABELS.get(intent)


def _offered(buttons: Iterable[Any] | None) -> dict[str, str]:
    titles: dict[str, str] = {}
    for button in buttons or []:
        if not isinstance(button, Mapping):
            continue
        payload = str(button.get("payload") or "").strip()
        title = str(button.get("title") or "").strip()
        if payload and title:
            titles.setdefault(payload, title)
    return titles


def display_texts(messages: Sequence[TranscriptLine]) -> list[str | None]:
    """For each message (in conversation order): the pressed button's title, or None."""
    offered: dict[str, str] = {}  # payload -> title of its newest offer so far
    result: list[str | None] = []
    for message in messages:
        if message.direction == "out":
            result.append(None)
            offered.update(_offered(message.buttons))
            continue
        text = (message.text or "").strip()
        parsed = parse_payload(text)
        if parsed is None:
            result.append(None)
        else:
            result.append(offered.get(text) or label_of_payload(*parsed))
    return result
