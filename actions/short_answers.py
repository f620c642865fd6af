"""action_short_answer: "yes" / "no" mean something only as the answer to a question.

Rasa's rules cannot see which question the bot asked last (the FAQ action answers,
suggests or offers a person with the same action name), so every affirm and deny goes
here, and this action reads the bot's last message in the tracker:

- an offer of a person ("Yes, connect me" / "No, thanks"): yes escalates with the
  offer's reason, no carries on;
- FAQ suggestions ("Did you mean...?" + "None of these"): no is a miss (two misses in a
  row offer a person, like two fallbacks), yes asks which one;
- an FAQ answer (thumbs buttons): taken like the thumbs;
- "anything else?": yes invites the question, no says goodbye;
- nothing asked: the bot says it does not know what the answer is for. Never a bare "Okay".

A button press arrives here too ("None of these" and "No, thanks" send /deny).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import HANDOVER, escalation_request
from actions.feedback import answer_feedback
from actions.offers import OFFER_HUMAN, human_offer_buttons

TOPICS = "You can ask about orders, delivery, returns, payment, invoices or your account."
NOT_ASKED = "Sorry, I'm not sure what that answers. What can I help you with? " + TOPICS
CARRY_ON = "Okay. What else can I help you with?"
WHICH_ONE = "Which one? Please choose one of these."
MISSED = "Sorry about that. Could you tell me in other words what you're looking for? " \
         "You can also ask to talk to a person."
ASK_AWAY = "Sure, what would you like to know?"
GOODBYE = "Alright. Thanks for contacting Brightcart, and have a nice day!"
MISSES_BEFORE_OFFER = 2


@dataclass(frozen=True)
class LastQuestion:
    kind: str  # "human_offer", "suggestion", "answer", "anything_else" or "none"
    buttons: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


def _payload_entities(payload: str) -> dict[str, Any]:
    start = payload.find("{")
    if start < 0:
        return {}
    try:
        value = json.loads(payload[start:])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def last_question(tracker: Tracker) -> LastQuestion:
    """What the bot's last message before the customer's latest one asked."""
    latest_user_seen = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if latest_user_seen:
                return LastQuestion("none")  # the bot said nothing in between
            latest_user_seen = True
        elif kind == "bot" and latest_user_seen:
            buttons = [b for b in ((event.get("data") or {}).get("buttons") or []) if isinstance(b, dict)]
            payloads = [str(b.get("payload") or "") for b in buttons]
            offer = next((p for p in payloads if p.startswith("/request_human")), None)
            if offer is not None:
                return LastQuestion("human_offer", buttons, _payload_entities(offer).get("escalation_reason"))
            if any(p.startswith("/faq_select") for p in payloads):
                return LastQuestion("suggestion", buttons)
            if any(p.startswith("/feedback") for p in payloads):
                return LastQuestion("answer", buttons)
            text = str(event.get("text") or "").lower()
            if "anything else" in text or "what else" in text:
                return LastQuestion("anything_else")
            return LastQuestion("none")
    return LastQuestion("none")


class ActionShortAnswer(Action):
    def name(self) -> str:
        return "action_short_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        question = last_question(tracker)
        if question.kind == "human_offer":
            if yes:
                reason = question.reason or "customer_request"
                dispatcher.utter_message(text=HANDOVER, helpline=escalation_request(tracker, reason))
                return []
            dispatcher.utter_message(text=CARRY_ON)
            return []
        if question.kind == "suggestion":
            if yes:
                dispatcher.utter_message(text=WHICH_ONE, buttons=question.buttons)
                return []
            return self._missed(dispatcher, tracker)
        if question.kind == "answer":
            return answer_feedback(dispatcher, tracker, helpful=yes)
        if question.kind == "anything_else":
            dispatcher.utter_message(text=ASK_AWAY if yes else GOODBYE)
            return []
        dispatcher.utter_message(text=NOT_ASKED)
        return []

    @staticmethod
    def _missed(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """None of the suggestions fitted: a miss, counted with the fallbacks."""
        streak = int(tracker.get_slot("fallback_streak") or 0) + 1
        if streak >= MISSES_BEFORE_OFFER:
            dispatcher.utter_message(text=OFFER_HUMAN, buttons=human_offer_buttons("repeated_fallback"))
            return [SlotSet("fallback_streak", 0)]
        dispatcher.utter_message(text=MISSED)
        return [SlotSet("fallback_streak", streak)]
