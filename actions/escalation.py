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


def complaint_form_was_active(tracker: Tracker) -> bool:
    """The complaint form was running when the customer's latest message arrived.

    By the time action_escalate runs, a rule has already deactivated the form, so the
    tracker's active loop is empty; the events still say what it was.
    """
    active: str | None = None
    latest_user_seen = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            latest_user_seen = True
        elif kind == "active_loop" and latest_user_seen:
            active = event.get("name")
            break
    return active == "complaint_form"


def complaint_opening(tracker: Tracker) -> str | None:
    """The customer message that started the latest complaint form."""
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == "complaint_form":
            started = True
        elif started and event.get("event") == "user":
            return str(event.get("text") or "") or None
    return None


def reason_of(tracker: Tracker) -> str:
    offered = next(tracker.get_latest_entity_values("escalation_reason"), None)
    if offered in ESCALATION_REASONS:
        return str(offered)
    if tracker.get_slot("complaint_details") or complaint_form_was_active(tracker):
        return "complaint"
    return "customer_request"


def escalation_request(tracker: Tracker, reason: str) -> dict[str, Any]:
    """What action_escalate attaches for the gateway: why, a one-line summary, and every
    complaint detail collected so far (a customer may ask for a person mid-form)."""
    details: dict[str, Any] = {slot: tracker.get_slot(slot) for slot in COMPLAINT_SLOTS if tracker.get_slot(slot)}
    # Asked for a person before saying what went wrong: the message that started the
    # complaint is the best summary there is.
    opening = complaint_opening(tracker) if reason == "complaint" else None
    summary = details.get("complaint_details") or opening or tracker.latest_message.get("text") or ""
    return {"escalate": {"reason": reason, "summary": str(summary)[:500], "details": details}}


class ActionEscalate(Action):
    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=HANDOVER, helpline=escalation_request(tracker, reason_of(tracker)))
        # The next complaint starts from scratch.
        return reset_complaint()


def reset_complaint() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]


# Words that frame a complaint without saying what happened ("I want to make a formal
# complaint about your service"). What is left after removing them, if it is at least
# COMPLAINT_CONTENT_WORDS words, says what went wrong, and the form does not ask again.
COMPLAINT_FRAME = frozenset("""
a about again against all am an and any are as at be been bad being but by can could
complain complaining complaint complaints claim customer consumer do does doing don't dont
experience file filing for formal from get got had has have help how i i'd i'm im in is it
it's just lodge lodging make making me my need not of on or our please really reclamation
register so some that the them there this to too u unhappy upset ur us very want wanna was
we were what where which who why will with would you your yours service services company
business organization organisation brightcart terrible awful horrible poor worst disappointed
disappointing angry annoyed furious frustrated dissatisfied dissatisfaction unacceptable
ridiculous shocking rubbish useless hi hello hey know try trying assistance like wish
""".split())
COMPLAINT_CONTENT_WORDS = 3
_WORD = re.compile(r"[a-z0-9']+")


def complaint_content(text: str) -> str | None:
    """The complaint text if it already says what went wrong, else None."""
    words = [w for w in _WORD.findall(text.lower()) if w not in COMPLAINT_FRAME]
    if len(words) < COMPLAINT_CONTENT_WORDS:
        return None
    return text.strip()[:1000]


class ActionPrefillComplaint(Action):
    """Runs just before the complaint form starts: a first message that already tells
    what went wrong fills complaint_details, so the form goes on to the order number."""

    def name(self) -> str:
        return "action_prefill_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        content = complaint_content(tracker.latest_message.get("text") or "")
        return [SlotSet("complaint_details", content)] if content else []


ASK_DETAILS = "I'm really sorry about that. Could you tell me in a few words what went wrong?"
ASK_ORDER = "Is this about an order? Please type the order number (it starts with BC), or \"no\"."
ASK_CONTACT = (
    "How can our team reach you if needed? An email address or phone number, "
    "or \"here\" to continue in this chat."
)
SORRY_PREFIX = "I'm really sorry about that. "
FORM_HINT = " (You can type \"stop\" to cancel, or ask for a person at any time.)"


class ActionAskComplaintDetails(Action):
    def name(self) -> str:
        return "action_ask_complaint_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=ASK_DETAILS + FORM_HINT)
        return []


class ActionAskOrderNumber(Action):
    def name(self) -> str:
        return "action_ask_order_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # When the first message already said what went wrong, this is the form's first
        # question: it carries the apology and the way out the first question would have.
        first_question = tracker.get_slot("requested_slot") is None
        text = SORRY_PREFIX + ASK_ORDER + FORM_HINT if first_question else ASK_ORDER
        dispatcher.utter_message(text=text)
        return []


class ActionAskContact(Action):
    def name(self) -> str:
        return "action_ask_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=ASK_CONTACT)
        return []


FORM_STOPPED = "Okay, I've stopped there and nothing was sent. Is there anything else I can help you with?"
STOPPED = "Okay. What else can I help you with?"


class ActionLeaveForm(Action):
    """"stop" / "cancel" / "never mind": leave the form (a rule deactivated it already)
    and forget what it collected."""

    def name(self) -> str:
        return "action_leave_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        in_form = complaint_form_was_active(tracker)
        dispatcher.utter_message(text=FORM_STOPPED if in_form else STOPPED)
        return reset_complaint()


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
