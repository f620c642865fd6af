"""action_feedback: "Did this help?" answered. Two thumbs-down in a row offer a human.

The gateway stores the feedback against the answer it refers to; this action only keeps
the dialogue going.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.offers import OFFER_HUMAN, human_offer_buttons

THUMBS_DOWN_BEFORE_OFFER = 2
THANKS_FOR_FEEDBACK = "Glad that helped! Anything else?"
SORRY = "Sorry that didn't help. Could you describe your question in other words?"


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = str(next(tracker.get_latest_entity_values("helpful"), "")).lower()
        return answer_feedback(dispatcher, tracker, helpful=helpful == "yes")


def answer_feedback(dispatcher: CollectingDispatcher, tracker: Tracker, *, helpful: bool) -> list[dict[str, Any]]:
    """Thanks for a thumbs-up; a thumbs-down apologises, and the second in a row offers a
    person. Shared by the feedback buttons and a typed "yes"/"no" to "did this help?"."""
    if helpful:
        dispatcher.utter_message(text=THANKS_FOR_FEEDBACK)
        return [SlotSet("thumbs_down_streak", 0)]
    streak = int(tracker.get_slot("thumbs_down_streak") or 0) + 1
    if streak >= THUMBS_DOWN_BEFORE_OFFER:
        dispatcher.utter_message(text=OFFER_HUMAN, buttons=human_offer_buttons("negative_feedback"))
        return [SlotSet("thumbs_down_streak", 0)]
    dispatcher.utter_message(text=SORRY)
    return [SlotSet("thumbs_down_streak", streak)]
