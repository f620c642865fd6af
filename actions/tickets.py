"""action_ticket_status: "what's the status of ticket HL-1001?".

Tickets live in the gateway's database; the action extracts the number and asks the
gateway to answer from there (``ticket_status`` in the message metadata).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

TICKET_NUMBER = re.compile(r"\bHL-?(\d{3,9})\b|\b(\d{3,9})\b", re.IGNORECASE)


def ticket_number_in(tracker: Tracker) -> str | None:
    # No NLU entity: the number is found in the text (data/nlu/ticket_status.yml says why).
    match = TICKET_NUMBER.search(tracker.latest_message.get("text") or "")
    return f"HL-{match.group(1) or match.group(2)}" if match else None


class ActionTicketStatus(Action):
    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(helpline={"ticket_status": {"number": ticket_number_in(tracker)}})
        return []
