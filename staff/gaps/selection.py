"""Which customer questions the bot could not answer well: the raw material of FAQ gaps.

A customer message is a gap question when one of the bot's replies to it (`reply_to_id`)
carries a FAQ decision that did not help:

- `fallback` / `unknown_selection`: the knowledge base found nothing good enough;
- `suggest`: the customer only got "Did you mean ...?" buttons;
- an answer (`answer` / `selected`) rated thumbs-down;
- `nlu_fallback`: NLU was not confident and no reply carried a FAQ answer.

Button payloads ("/faq_select{...}", "/feedback{...}") are clicks, not questions, and are
skipped. Texts are redacted (staff/privacy/redaction.py) as soon as they are read: nothing
downstream (embedding, cache, page) ever sees the original.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from bot.pipeline import payload_of
from staff.privacy.redaction import redact
from bot.transcript.models import Message

FALLBACK = "fallback"
SUGGEST = "suggest"
THUMBS_DOWN = "thumbs_down"
NLU_FALLBACK = "nlu_fallback"
REASONS = (FALLBACK, THUMBS_DOWN, NLU_FALLBACK, SUGGEST)

FALLBACK_RULES = ("fallback", "unknown_selection")
ANSWER_RULES = ("answer", "selected")
NLU_FALLBACK_INTENT = "nlu_fallback"
# A question longer than a FAQ phrasing may be is cut for display and embedding.
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class GapQuestion:
    message_id: int
    text: str  # redacted
    channel: str
    created_at: datetime
    reason: str
    # The FAQ that was answered and rated down (thumbs_down only).
    faq_id: str | None = None


def select_gap_questions(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    channel: str | None = None,
    include_suggest: bool = True,
    max_rows: int = 20_000,
) -> list[GapQuestion]:
    """Gap questions created in [since, until), newest first, at most `max_rows` replies read."""
    question = aliased(Message)
    reply = aliased(Message)
    rule = reply.faq_trail["rule"].as_string()
    faq_id = reply.faq_trail["faq_id"].as_string()
    gap_rules = [*FALLBACK_RULES, *((SUGGEST,) if include_suggest else ())]
    query = (
        select(question.id, question.text, question.channel, question.created_at, question.intent,
               rule.label("rule"), faq_id.label("faq_id"), reply.feedback)
        .join(reply, reply.reply_to_id == question.id)
        .where(
            question.direction == "in",
            question.author == "customer",
            question.created_at >= since,
            question.created_at < until,
            reply.direction == "out",
            or_(rule.in_(gap_rules), reply.feedback == "down", question.intent == NLU_FALLBACK_INTENT),
        )
        .order_by(question.id.desc())
        .limit(max_rows)
    )
    if channel:
        query = query.where(question.channel == channel)
    grouped: dict[int, dict[str, Any]] = {}
    for row in session.execute(query):
        item = grouped.setdefault(row.id, {"row": row, "rules": [], "down": None})
        if row.rule is not None:
            item["rules"].append(row.rule)
        if row.rule in ANSWER_RULES and row.feedback == "down":
            item["down"] = row.faq_id
    out: list[GapQuestion] = []
    for message_id, item in grouped.items():
        row = item["row"]
        if payload_of(row.text or "") is not None:
            continue
        reason = _reason(item["rules"], item["down"] is not None, row.intent, include_suggest)
        text = " ".join(redact(row.text or "").split())[:MAX_QUESTION_CHARS]
        if reason is None or not text:
            continue
        out.append(GapQuestion(message_id, text, row.channel, row.created_at, reason,
                               item["down"] if reason == THUMBS_DOWN else None))
    out.sort(key=lambda q: q.message_id, reverse=True)
    return out


def _reason(rules: list[str], rated_down: bool, intent: str | None, include_suggest: bool) -> str | None:
    """The worst thing that happened to the question, or None when it was answered."""
    if rated_down:
        return THUMBS_DOWN
    if any(r in FALLBACK_RULES for r in rules):
        return FALLBACK
    if SUGGEST in rules:
        return SUGGEST if include_suggest else None
    if intent == NLU_FALLBACK_INTENT and not any(r in ANSWER_RULES for r in rules):
        return NLU_FALLBACK
    return None


def fingerprint(questions: list[GapQuestion]) -> str:
    """Changes whenever a gap question arrives, goes (erased, retention) or changes reason."""
    digest = hashlib.sha256()
    for q in questions:
        digest.update(f"{q.message_id}:{q.reason}:{q.faq_id or ''}\n".encode())
    return digest.hexdigest()
