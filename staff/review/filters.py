"""The review list's filters: parsed and validated from query parameters, turned into SQL.

Every filter narrows the list of conversations (AND). Definitions (docs/review.md):

- A conversation is listed once the customer wrote in it (the KPI scope rule of
  docs/kpis.md: an opened widget without a message is not a conversation).
- ``from`` / ``to`` select by conversation start (``created_at``), ``[from, to)``; a
  date-only ``to`` includes that whole day.
- ``outcome`` (as of now, not as of a period end):
  ``resolved_by_bot`` = no ticket at all (the containment numerator of docs/kpis.md);
  ``escalated`` = at least one ticket that was not abandoned;
  ``abandoned`` = has tickets, and every one was closed with close_reason
  ``abandoned`` (the customer left the queue: ``cancel_by_customer``), the abandonment
  numerator's definition applied per conversation. ``escalated`` + ``abandoned`` is the
  escalation-rate numerator; the three never overlap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from time import monotonic
from typing import Any

from sqlalchemy import ColumnElement, String, and_, exists, false, func, literal_column, not_, or_, select
from sqlalchemy.orm import Session, aliased

from bot.csat.models import CsatSurvey
from bot.http_types import InputError, calendar_moment
from staff.privacy.redaction import redact
from staff.review.edits import normalise_tag
from staff.review.models import REVIEW_STATUSES, ConversationReview, ConversationTag
from bot.transcript.models import Conversation, Message
from handoff.lifecycle import CloseReason
from handoff.models import Ticket

OUTCOMES = ("resolved_by_bot", "escalated", "abandoned")
MAX_QUERY_CHARS = 200
_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_CHANNEL = re.compile(r"^[a-z_]{1,16}$")


class FilterError(ValueError):
    """A parameter the list cannot use; the message is the reason given with the 422."""


@dataclass(frozen=True)
class ReviewFilters:
    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    outcome: str | None = None
    intent: str | None = None
    faq: str | None = None
    reason: str | None = None
    csat: tuple[int, ...] = ()
    agent: int | None = None
    tag: str | None = None
    status: str | None = None
    q: str | None = None
    category: str | None = None  # only with a KPI drill-down (the KPI's own filter)
    kpi: str | None = None
    part: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_audit(self) -> dict[str, Any]:
        """The filters as recorded in the audit log (search text redacted: it may be an
        e-mail address the supervisor looked for)."""
        values = {k: v for k, v in asdict(self).items() if v not in (None, (), {}) and k != "extra"}
        for key in ("start", "end"):
            if key in values:
                values[key] = values[key].isoformat()
        if "csat" in values:
            values["csat"] = list(values["csat"])
        if "q" in values:
            values["q"] = redact(values["q"])
        return values


def _moment(name: str, raw: str, *, end_of_day: bool) -> datetime:
    # Days outside 1970..9000 are refused (9999-12-31 + 1 day overflowed into a 500).
    try:
        return calendar_moment(name, raw, end_of_day=end_of_day)
    except InputError as exc:
        raise FilterError(str(exc)) from exc


def _name(name: str, raw: str | None, pattern: re.Pattern[str] = _NAME) -> str | None:
    if raw is None or raw == "":
        return None
    if not pattern.fullmatch(raw):
        raise FilterError(f"{name}: unexpected value {raw[:70]!r}")
    return raw


def parse_filters(params: Mapping[str, str]) -> ReviewFilters:
    """Validate query parameters; raises FilterError with the reason."""
    start = _moment("from", params["from"], end_of_day=False) if params.get("from") else None
    end = _moment("to", params["to"], end_of_day=True) if params.get("to") else None
    if start and end and end <= start:
        raise FilterError("to must be after from")
    outcome = params.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise FilterError(f"outcome must be one of {', '.join(OUTCOMES)}")
    status = params.get("status") or None
    if status is not None and status not in REVIEW_STATUSES:
        raise FilterError(f"status must be one of {', '.join(REVIEW_STATUSES)}")
    csat: tuple[int, ...] = ()
    if params.get("csat"):
        try:
            csat = tuple(sorted({int(part) for part in params["csat"].split(",")}))
        except ValueError as exc:
            raise FilterError("csat: ratings 1-5, comma-separated") from exc
        if not all(1 <= rating <= 5 for rating in csat):
            raise FilterError("csat: ratings 1-5, comma-separated")
    agent = None
    if params.get("agent"):
        if not params["agent"].isdigit() or len(params["agent"]) > 9:
            raise FilterError("agent: a user id")
        agent = int(params["agent"])
    q = (params.get("q") or "").strip() or None
    if q is not None and len(q) > MAX_QUERY_CHARS:
        raise FilterError(f"q: at most {MAX_QUERY_CHARS} characters")
    if q is not None and redact(q) != q:
        # Transcripts show these masked; a search for them could only confirm a guess.
        raise FilterError("q: e-mail addresses, phone, card and IBAN numbers are masked in "
                          "transcripts and cannot be searched for")
    tag = params.get("tag") or None
    if tag is not None:
        tag = normalise_tag(tag)
    kpi = _name("kpi", params.get("kpi"))
    part = _name("part", params.get("part"))
    if (kpi is None) != (part is None):
        raise FilterError("kpi and part go together")
    return ReviewFilters(
        start=start, end=end,
        channel=_name("channel", params.get("channel"), _CHANNEL),
        outcome=outcome,
        intent=_name("intent", params.get("intent")),
        faq=_name("faq", params.get("faq")),
        reason=_name("reason", params.get("reason")),
        csat=csat, agent=agent, tag=tag, status=status, q=q,
        category=_name("category", params.get("category")),
        kpi=kpi, part=part,
    )


# SQL ------------------------------------------------------------------------------------


def customer_wrote() -> ColumnElement[bool]:
    # Set by a trigger on the first customer message (migration 0007).
    return Conversation.first_customer_message_at.is_not(None)


def _ticket_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Ticket.conversation_id == Conversation.id, *conditions)


def _not_abandoned() -> ColumnElement[bool]:
    return or_(Ticket.close_reason.is_(None), Ticket.close_reason != CloseReason.ABANDONED.value)


def outcome_condition(outcome: str) -> ColumnElement[bool]:
    if outcome == "resolved_by_bot":
        return not_(_ticket_exists())
    if outcome == "escalated":
        return _ticket_exists(_not_abandoned())
    # abandoned: tickets exist and none of them is anything but abandoned
    return and_(_ticket_exists(), not_(_ticket_exists(_not_abandoned())))


# A search whose words are in at most this many messages is resolved to their
# conversation ids first (GIN bitmap scan); a commoner one is checked per conversation
# while walking the list newest first, which finds a page of matches quickly. Without
# this split PostgreSQL walks every conversation for a rare word (7 s at 1M messages).
SEARCH_ID_LIMIT = 5000


# Searches known to be common (more than SEARCH_ID_LIMIT messages) skip the probe for a
# while: the next page or the export of the same search does not pay for it again. Only
# that verdict is remembered (a word does not become rare in minutes), never the ids.
COMMON_SEARCH_TTL_SECONDS = 600.0
_common_searches: dict[tuple[str, str], float] = {}


def search_hits(session: Session, q: str) -> list[str] | None:
    """Conversation ids with a message matching ``q`` when there are few such messages
    (PostgreSQL only), else None (search per conversation)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    key, now = (str(bind.engine.url), q), monotonic()
    if _common_searches.get(key, 0.0) > now:
        return None
    rows = session.scalars(select(Message.conversation_id).where(_fts_match(q)).limit(SEARCH_ID_LIMIT + 1)).all()
    if len(rows) > SEARCH_ID_LIMIT:
        if len(_common_searches) > 1000:
            _common_searches.clear()
        _common_searches[key] = now + COMMON_SEARCH_TTL_SECONDS
        return None
    return sorted(set(rows))


def _fts_match(q: str) -> ColumnElement[bool]:
    vector = func.to_tsvector(literal_column("'simple'::regconfig"), Message.text)
    match: ColumnElement[bool] = vector.op("@@")(func.plainto_tsquery(literal_column("'simple'::regconfig"), q))
    return match


def search_words(q: str) -> list[str]:
    return [w for w in re.split(r"\s+", q) if w][:10]


def message_matches(q: str, dialect: str) -> ColumnElement[bool]:
    """The message's stored (unredacted) text contains every word of ``q``.

    PostgreSQL: ``to_tsvector('simple', text) @@ plainto_tsquery('simple', q)`` (GIN
    index ix_messages_text_fts; whole words, case-insensitive, no stemming). SQLite: every
    word as a case-insensitive substring (LIKE). Only a pre-filter: a candidate is kept
    when the redacted text matches too (staff/review/queries.py, ``visible_matches``).
    """
    if dialect == "postgresql":
        return _fts_match(q)
    words = search_words(q)
    if not words:
        return false()
    return and_(*[Message.text.ilike("%" + _escape_like(w) + "%", escape="\\") for w in words])


def search_condition(q: str, dialect: str) -> ColumnElement[bool]:
    """Some message of the conversation matches ``q`` (before redaction: see above)."""
    return exists().where(Message.conversation_id == Conversation.id, message_matches(q, dialect))


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def latest_rating_is(ratings: tuple[int, ...]) -> ColumnElement[bool]:
    """The conversation's last rated survey (highest id with a rating) has one of ``ratings``
    (the KPI rule: for a conversation rated more than once, the last rating counts)."""
    later = aliased(CsatSurvey)
    return exists().where(
        CsatSurvey.conversation_id == Conversation.id,
        CsatSurvey.rating.in_(ratings),
        ~exists().where(
            later.conversation_id == CsatSurvey.conversation_id,
            later.rating.is_not(None),
            later.id > CsatSurvey.id,
        ),
    )


def conditions(
    filters: ReviewFilters, dialect: str, search_ids: Sequence[str] | None = None
) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``conversations``.

    With a KPI drill-down (``kpi`` + ``part``) the period, channel, category and agent
    belong to the KPI (its own definitions pick the conversations, e.g. by ticket
    creation time), so they are not applied again here; the other filters still narrow.
    """
    drill = filters.kpi is not None
    where: list[ColumnElement[bool]] = [] if drill else [customer_wrote()]
    if filters.start is not None and not drill:
        where.append(Conversation.created_at >= filters.start)
    if filters.end is not None and not drill:
        where.append(Conversation.created_at < filters.end)
    if filters.channel is not None and not drill:
        where.append(Conversation.channel == filters.channel)
    if filters.outcome is not None:
        where.append(outcome_condition(filters.outcome))
    if filters.intent is not None:
        where.append(exists().where(Message.intent == filters.intent,
                                    Message.conversation_id == Conversation.id))
    if filters.faq is not None:
        where.append(exists().where(faq_id_of(dialect) == filters.faq,
                                    Message.conversation_id == Conversation.id))
    if filters.reason is not None:
        where.append(_ticket_exists(Ticket.reason == filters.reason))
    if filters.agent is not None and not drill:
        where.append(_ticket_exists(Ticket.assignee_id == filters.agent))
    if filters.category is not None and not drill:
        where.append(_ticket_exists(Ticket.category == filters.category))
    if filters.csat:
        where.append(latest_rating_is(filters.csat))
    if filters.tag is not None:
        where.append(exists().where(ConversationTag.conversation_id == Conversation.id,
                                    ConversationTag.tag == filters.tag))
    if filters.status is not None:
        reviewed = select(ConversationReview.status).where(
            ConversationReview.conversation_id == Conversation.id).scalar_subquery()
        if filters.status == "unreviewed":
            where.append(or_(reviewed.is_(None), reviewed == "unreviewed"))
        else:
            where.append(reviewed == filters.status)
    if filters.q is not None:
        if search_ids is not None:
            where.append(Conversation.id.in_(search_ids) if search_ids else false())
        else:
            where.append(search_condition(filters.q, dialect))
    return where


def faq_id_of(dialect: str) -> ColumnElement[str]:
    """A bot answer's ``faq_trail.faq_id``, spelled exactly as the expression index
    ix_messages_faq_conversation (a literal key: a bound parameter would not match it)."""
    if dialect == "postgresql":
        return Message.faq_trail.op("->>", return_type=String)(literal_column("'faq_id'"))
    return func.json_extract(Message.faq_trail, literal_column("'$.faq_id'"), type_=String)
