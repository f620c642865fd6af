"""What the survey says and which buttons it offers, step by step."""

from __future__ import annotations

from bot.csat.payloads import rate_payload, recommend_payload, skip_payload
from bot.transcript.store import OutboundDraft

RATE_PROMPT = "How would you rate this conversation? 1 is very poor, 5 is excellent."
RECOMMEND_PROMPT = "Thanks for rating us {rating} out of 5. Would you recommend us to a friend?"
COMMENT_PROMPT = "Anything you'd like to add? Just type it here, or choose \"No, thanks\"."
THANKS = "Thank you for your feedback!"
THANKS_FOR_COMMENT = "Thank you, your comment is saved. We read every one."

# Polite lines for answers the survey cannot use; the survey itself is left as it was.
UNUSABLE = "Sorry, I couldn't use that answer. Please choose one of the survey's buttons."
CLOSED = "Thanks, but that survey has already closed."
ALREADY_ANSWERED = "You've already answered that question, thank you!"

RATING_TITLES = ("1", "2", "3", "4", "5")


def rating_prompt(survey_id: int) -> OutboundDraft:
    buttons = [
        {"title": title, "payload": rate_payload(survey_id, rating)}
        for rating, title in enumerate(RATING_TITLES, start=1)
    ]
    return OutboundDraft(text=RATE_PROMPT, buttons=buttons)


def recommend_prompt(survey_id: int, rating: int) -> OutboundDraft:
    return OutboundDraft(
        text=RECOMMEND_PROMPT.format(rating=rating),
        buttons=[
            {"title": "Yes", "payload": recommend_payload(survey_id, True)},
            {"title": "No", "payload": recommend_payload(survey_id, False)},
        ],
    )


def comment_prompt(survey_id: int) -> OutboundDraft:
    return OutboundDraft(
        text=COMMENT_PROMPT, buttons=[{"title": "No, thanks", "payload": skip_payload(survey_id)}]
    )


def line(text: str) -> OutboundDraft:
    return OutboundDraft(text=text)
