"""Escalation to a person, and the complaint form that precedes it.

``action_escalate`` does not create the ticket: it says so to the customer and attaches
an ``escalate`` request (reason, summary, details) to its message. The gateway, which
owns the conversation, creates the ticket and moves the conversation to the queue, so
ownership changes in exactly one place (docs/architecture.md).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

ESCALATION_REASONS = frozenset(
    {"customer_request", "complaint", "repeated_fallback", "negative_feedback",
     "negative_sentiment", "bot_error"}
)
HANDOVER = "I'm passing this to a colleague from our support team."
ORDER_NUMBER = re.compile(r"\b(?:BC)?\d{6,10}\b", re.IGNORECASE)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?\d[\d ()/-]{6,}\d")
NO_WORDS = frozenset({"no", "nope", "none", "n/a", "not about an order", "no order", "-"})
HERE_WORDS = frozenset({"here", "in this chat", "chat", "this chat", "here please"})
COMPLAINT_SLOTS = ("complaint_details", "order_number", "contact")


def reason_of(tracker: Tracker) -> str:
    offered = next(tracker.get_latest_entity_values("escalation_reason"), None)
    if offered in ESCALATION_REASONS:
        return str(offered)
    if tracker.get_slot("complaint_details"):
        return "complaint"
    return "customer_request"


class ActionEscalate(Action):
    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reason = reason_of(tracker)
        details = {slot: tracker.get_slot(slot) for slot in COMPLAINT_SLOTS if tracker.get_slot(slot)}
        summary = details.get("complaint_details") or tracker.latest_message.get("text") or ""
        dispatcher.utter_message(
            text=HANDOVER,
            helpline={"escalate": {"reason": reason, "summary": summary[:500], "details": details}},
        )
        # The next complaint starts from scratch.
        return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    def validate_complaint_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 3:
            dispatcher.utter_message(text="Could you say a bit more about what went wrong?")
            return {"complaint_details": None}
        return {"complaint_details": text[:1000]}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        match = ORDER_NUMBER.search(text)
        if match:
            return {"order_number": match.group(0).upper()}
        if text.lower().strip(".! ") in NO_WORDS:
            return {"order_number": "none"}
        dispatcher.utter_message(text="I couldn't find an order number there (it looks like BC12345678). Type it again, or \"no\".")
        return {"order_number": None}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        for pattern in (EMAIL, PHONE):
            match = pattern.search(text)
            if match:
                return {"contact": match.group(0)}
        if text.lower().strip(".! ") in HERE_WORDS:
            return {"contact": "chat"}
        dispatcher.utter_message(text="Please give an email address or a phone number, or type \"here\".")
        return {"contact": None}
