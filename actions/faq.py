"""action_answer_faq: answer from the FAQ index, offer choices, or fall back.

A thin adapter: it reads the question from the tracker, asks knowledge_base, and turns
the decision into messages. The decision's trail (faq id, score, top-3, rule) travels in
each bot message's metadata under "helpline", where the gateway stores it.

Misses: a fallback, or "None of these" under the suggestion buttons. Two misses in a row
offer a human (the offer's button carries the reason "repeated_fallback"). Showing the
buttons is not a miss; an answer or a chosen suggestion resets the count.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import provider
from actions.offers import NONE_OF_THESE, OFFER_HUMAN, feedback_buttons, human_offer_buttons, payload
from handoff.sentiment import is_negative
from knowledge_base import Decision

logger = logging.getLogger(__name__)

SUGGEST_PROMPT = "I'm not completely sure. Did you mean one of these?"
FALLBACK = (
    "Sorry, I don't have an answer for that yet. Could you rephrase your question, "
    "or ask about orders, delivery, returns, payment, invoices or your account?"
)
NONE_OF_THESE_REPLY = (
    "Sorry those weren't it. Could you tell me a bit more, in other words? "
    "You can also ask about orders, delivery, returns, payment, invoices or your account."
)
FALLBACKS_BEFORE_OFFER = 2
# The "None of these" button's faq_id: parentheses cannot occur in an FAQ id, so a
# customer's rejection of the suggestions can never be mistaken for a choice.
NONE_SELECTED = "(none)"


def understood(tracker: Tracker) -> dict[str, Any]:
    intent = tracker.latest_message.get("intent") or {}
    return {"intent": intent.get("name"), "intent_confidence": intent.get("confidence")}


def selected_faq_id(tracker: Tracker) -> str | None:
    if (tracker.latest_message.get("intent") or {}).get("name") != "faq_select":
        return None
    value = next(tracker.get_latest_entity_values("faq_id"), None)
    return str(value) if value else None


def suggestion_buttons(decision: Decision) -> list[dict[str, str]]:
    """The best two candidates, the third only if it also clears the suggestion floor, then "None of these"."""
    floor = decision.details.get("suggest_floor")
    shown = [c for i, c in enumerate(decision.candidates[:3]) if i < 2 or floor is None or c.score >= floor]
    buttons = [{"title": c.question, "payload": payload("faq_select", faq_id=c.faq_id)} for c in shown]
    buttons.append({"title": NONE_OF_THESE, "payload": payload("faq_select", faq_id=NONE_SELECTED)})
    return buttons


def fallback(
    dispatcher: CollectingDispatcher, tracker: Tracker, trail: dict[str, Any], text: str = FALLBACK
) -> list[dict[str, Any]]:
    streak = int(tracker.get_slot("fallback_streak") or 0) + 1
    if is_negative(tracker.latest_message.get("text") or ""):
        # An upset customer the bot cannot help should not be asked to rephrase.
        dispatcher.utter_message(
            text=OFFER_HUMAN, buttons=human_offer_buttons("negative_sentiment"),
            helpline={"faq_trail": {**trail, "offer": "human"}},
        )
        return [SlotSet("fallback_streak", 0)]
    if streak >= FALLBACKS_BEFORE_OFFER:
        dispatcher.utter_message(
            text=OFFER_HUMAN, buttons=human_offer_buttons("repeated_fallback"),
            helpline={"faq_trail": {**trail, "offer": "human"}},
        )
        return [SlotSet("fallback_streak", 0)]
    dispatcher.utter_message(text=text, helpline={"faq_trail": trail})
    return [SlotSet("fallback_streak", streak)]


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = await provider.get()
        chosen = selected_faq_id(tracker)
        if chosen == NONE_SELECTED:
            return fallback(dispatcher, tracker, {"rule": "none_of_these", "faq_id": None, **understood(tracker)},
                            NONE_OF_THESE_REPLY)
        if chosen is not None:
            entry = kb.get(chosen)
            if entry is None:
                # Unknown or stale button payload: treat it like an unanswerable question.
                return fallback(dispatcher, tracker, {"rule": "unknown_selection", "faq_id": chosen, **understood(tracker)})
            dispatcher.utter_message(
                text=entry.answer, buttons=feedback_buttons(entry.id),
                helpline={"faq_trail": {"rule": "selected", "faq_id": entry.id, "score": 1.0, **understood(tracker)}},
            )
            return [SlotSet("fallback_streak", 0)]

        question = tracker.latest_message.get("text") or ""
        decision: Decision = await anyio.to_thread.run_sync(kb.answer, question)
        trail = {**decision.trail(), **understood(tracker)}
        if decision.rule == "answer" and decision.faq is not None:
            dispatcher.utter_message(
                text=decision.faq.answer, buttons=feedback_buttons(decision.faq.id),
                helpline={"faq_trail": trail},
            )
            return [SlotSet("fallback_streak", 0)]
        if decision.rule == "suggest" and decision.candidates:
            dispatcher.utter_message(text=SUGGEST_PROMPT, buttons=suggestion_buttons(decision),
                                     helpline={"faq_trail": trail})
            return []
        return fallback(dispatcher, tracker, trail)
