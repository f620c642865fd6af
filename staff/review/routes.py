"""Conversation review for supervisors: pages and JSON API (docs/review.md).

Only supervisors and admins: every route depends on ``require_roles("supervisor")``
(API: 401 when not signed in, 403 for agents) except the two pages, which redirect
to the login page when not signed in and show a 403 page to agents. CSRF is enforced
by the auth dependency on every unsafe method. Reads, exports and edits are
audit-logged; every text shown or exported is redacted (staff/review/queries.py).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.audit import record
from staff.auth.components import AuthComponents
from staff.auth.dependencies import AuthenticatedUser, role_allows
from staff.pages import forbidden_page, page_response, security_headers
from staff.auth.models import User
from bot.db import in_transaction
from staff.privacy.redaction import redact
from bot.http_types import PlainLine, PlainText
from staff.review import edits, queries
from staff.review.filters import OUTCOMES, FilterError, ReviewFilters, parse_filters
from staff.review.models import REVIEW_STATUSES, ConversationTag
from bot.transcript.models import utcnow
from handoff.lifecycle import EscalationReason

logger = logging.getLogger(__name__)

T = TypeVar("T")
STATIC = files("staff") / "review" / "static"
STATIC_FILES = {"review.css": "text/css", "review.js": "text/javascript", "transcript.js": "text/javascript"}
# An export streams at most this many conversations (with all their messages); the
# response says whether the filter matched more (X-Export-Truncated).
EXPORT_CAP = 5000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
CSV_COLUMNS = (
    "conversation_id", "channel", "started_at", "last_activity_at", "outcome", "tickets", "ticket_reasons",
    "assignees", "csat", "tags", "review_status", "message_id", "message_at", "author", "direction",
    "status", "text", "intent", "intent_confidence", "faq_id", "faq_score", "faq_rule", "feedback",
    "latency_ms",
)
PAGE_SECURITY_HEADERS = security_headers()


class StatusBody(BaseModel):
    status: PlainLine = Field(max_length=32)


class TagBody(BaseModel):
    tag: PlainLine = Field(max_length=200)


class CommentBody(BaseModel):
    text: PlainText = Field(max_length=edits.MAX_COMMENT_CHARS * 2)


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return queries.DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= queries.MAX_PAGE:
        raise FilterError(f"limit: 1-{queries.MAX_PAGE}")
    return int(raw)


def _drilldown(filters: ReviewFilters) -> Select[Any] | None:
    """The KPI's conversations (staff/analytics/drilldown.py) when kpi + part are given."""
    if filters.kpi is None or filters.part is None:
        return None
    if filters.start is None or filters.end is None:
        raise FilterError("a KPI drill-down needs from and to (the KPI's period)")
    from staff.analytics.drilldown import UnknownDrilldown, drilldown_conversations
    from staff.analytics.scope import Filters, Period

    try:
        return drilldown_conversations(
            filters.kpi, filters.part, Period(filters.start, filters.end),
            Filters(channel=filters.channel, category=filters.category, agent_id=filters.agent),
        )
    except (UnknownDrilldown, ValueError) as exc:
        raise FilterError(str(exc)) from exc


def _unprocessable(exc: ValueError) -> HTTPException:
    return HTTPException(422, detail=str(exc))


def _check_id(conversation_id: str) -> None:
    if not _CONVERSATION_ID.fullmatch(conversation_id):
        raise HTTPException(404, detail="no such conversation")


def _csv_safe(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(conversation: dict[str, Any]) -> list[list[Any]]:
    """One CSV row per message (a conversation without messages gets one row)."""
    tickets = conversation["tickets"]
    head = [
        conversation["id"], conversation["channel"], conversation["started_at"], conversation["last_activity_at"],
        conversation["outcome"], " ".join(t["number"] for t in tickets), " ".join(t["reason"] for t in tickets),
        " ".join(sorted({t["assignee_name"] for t in tickets if t["assignee_name"]})),
        conversation["csat"]["rating"] if conversation["csat"] else "", " ".join(conversation["tags"]),
        conversation["review_status"],
    ]
    rows = []
    for m in conversation["messages"] or [None]:
        if m is None:
            rows.append(head + [""] * (len(CSV_COLUMNS) - len(head)))
            continue
        trail = m["faq_trail"] or {}
        rows.append(head + [
            m["id"], m["at"], m["author"], m["direction"], m["status"], m["text"], m["intent"] or "",
            "" if m["intent_confidence"] is None else m["intent_confidence"], trail.get("faq_id") or "",
            "" if trail.get("score") is None else trail.get("score"), trail.get("rule") or "",
            m["feedback"] or "", "" if m["latency_ms"] is None else m["latency_ms"],
        ])
    return [[_csv_safe(value) for value in row] for row in rows]


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def build_review_router(
    auth: AuthComponents, sessions: sessionmaker[Session], *, export_cap: int | None = None
) -> APIRouter:
    """Pages ``/review``, ``/review/{id}``, assets ``/review/static/*`` and the API under
    ``/api/review``. ``sessions`` is the app's session factory (the app database);
    ``export_cap`` defaults to EXPORT_CAP (read when the router is built)."""
    router = APIRouter()
    cap = EXPORT_CAP if export_cap is None else export_cap
    supervisor = auth.require_roles("supervisor")

    async def run(work: Callable[[Session], T]) -> T:
        return await in_transaction(sessions, work)

    async def audit(user: AuthenticatedUser, action: str, **fields: Any) -> None:
        await auth.audit.record(action, actor=user.actor, **fields)

    # Pages --------------------------------------------------------------------------

    def page(name: str, user: AuthenticatedUser) -> HTMLResponse:
        if not role_allows(user.role, ("supervisor",)):
            return forbidden_page(user, what="Conversation review", stylesheet="/review/static/review.css",
                                  links=[("/console", "Back to the console")], headers=PAGE_SECURITY_HEADERS,
                                  body_class="forbidden")
        return page_response(STATIC / name, user, PAGE_SECURITY_HEADERS)

    @router.get("/review", include_in_schema=False)
    async def review_page(user: AuthenticatedUser = Depends(auth.current_user)) -> HTMLResponse:
        return page("review.html", user)

    @router.get("/review/static/{name}", include_in_schema=False)
    async def review_static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise HTTPException(404)
        return Response((STATIC / name).read_text(), media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    @router.get("/review/{conversation_id}", include_in_schema=False)
    async def transcript_page(conversation_id: str,
                              user: AuthenticatedUser = Depends(auth.current_user)) -> HTMLResponse:
        return page("transcript.html", user)

    # API: read ----------------------------------------------------------------------

    @router.get("/api/review/options", tags=["review"])
    async def options(user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """Values for the filter form: outcomes, review statuses, reasons, agents, tags in use."""
        def work(session: Session) -> dict[str, Any]:
            agents = session.execute(select(User.id, User.display_name).order_by(User.display_name)).all()
            tags = session.scalars(select(ConversationTag.tag).distinct().order_by(ConversationTag.tag).limit(500))
            return {"agents": [{"id": a, "name": n} for a, n in agents], "tags": list(tags)}

        data = await run(work)
        return {"outcomes": list(OUTCOMES), "statuses": list(REVIEW_STATUSES),
                "reasons": [r.value for r in EscalationReason], "channels": ["web", "telegram"], **data}

    @router.get("/api/review/conversations", tags=["review"],
                responses={422: {"description": "a filter, the cursor or the limit is not usable"}})
    async def list_conversations(request: Request,
                                 user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """The filtered conversations, newest first, one keyset page (``cursor`` = the
        previous page's ``next_cursor``). Filters: from, to, channel, outcome, intent, faq,
        reason, csat, agent, tag, status, q, and kpi + part (+ category) for a KPI drill-down."""
        params = request.query_params
        try:
            filters = parse_filters(params)
            limit = _limit(params.get("limit"))
            cursor = queries.Cursor.decode(params["cursor"]) if params.get("cursor") else None
            drill = _drilldown(filters)
        except (FilterError, edits.EditError) as exc:
            raise _unprocessable(exc) from exc
        def work(session: Session) -> dict[str, Any]:
            result = queries.list_page(session, filters, cursor=cursor, limit=limit, drill=drill)
            # Same transaction: the read and its audit row commit together, one round trip.
            record(session, "review.list", actor=user.actor, details={
                "filters": filters.as_audit(), "page": bool(cursor), "rows": len(result["conversations"])})
            return result

        return await run(work)

    @router.get("/api/review/conversations/{conversation_id}", tags=["review"], responses={404: {}})
    async def get_transcript(conversation_id: str,
                             user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """Every message with its annotations, tickets with events and notes, CSAT, tags,
        review status and comments."""
        _check_id(conversation_id)
        def work(session: Session) -> dict[str, Any] | None:
            data = queries.transcript(session, conversation_id)
            if data is not None:
                record(session, "review.read", actor=user.actor, target_type="conversation",
                       target_id=conversation_id)
            return data

        data = await run(work)
        if data is None:
            raise HTTPException(404, detail="no such conversation")
        return data

    # API: edit ----------------------------------------------------------------------

    async def edit(conversation_id: str, work: Callable[[Session], T]) -> T:
        _check_id(conversation_id)
        try:
            return await run(work)
        except edits.UnknownConversation as exc:
            raise HTTPException(404, detail="no such conversation") from exc
        except edits.EditError as exc:
            raise _unprocessable(exc) from exc

    @router.put("/api/review/conversations/{conversation_id}/status", tags=["review"])
    async def put_status(conversation_id: str, body: StatusBody,
                         user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        await edit(conversation_id, lambda s: edits.set_status(s, conversation_id, body.status, user.id))
        await audit(user, "review.status", target_type="conversation", target_id=conversation_id,
                    details={"status": body.status})
        return {"status": body.status}

    @router.post("/api/review/conversations/{conversation_id}/tags", tags=["review"], status_code=201)
    async def post_tag(conversation_id: str, body: TagBody,
                       user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        tag, added = await edit(conversation_id, lambda s: edits.add_tag(s, conversation_id, body.tag, user.id))
        if added:
            await audit(user, "review.tag_add", target_type="conversation", target_id=conversation_id,
                        details={"tag": tag})
        return {"tag": tag, "added": added}

    @router.delete("/api/review/conversations/{conversation_id}/tags/{tag}", tags=["review"])
    async def delete_tag(conversation_id: str, tag: str,
                         user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        name, removed = await edit(conversation_id, lambda s: edits.remove_tag(s, conversation_id, tag))
        if removed:
            await audit(user, "review.tag_remove", target_type="conversation", target_id=conversation_id,
                        details={"tag": name})
        return {"tag": name, "removed": removed}

    @router.post("/api/review/conversations/{conversation_id}/comments", tags=["review"], status_code=201)
    async def post_comment(conversation_id: str, body: CommentBody,
                           user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        comment = await edit(conversation_id,
                             lambda s: edits.add_comment(s, conversation_id, body.text, user.id))
        # The comment text is not copied into the audit log (it may quote the customer).
        await audit(user, "review.comment", target_type="conversation", target_id=conversation_id,
                    details={"comment_id": comment.id})
        return {"id": comment.id, "at": comment.created_at.isoformat(), "author": user.display_name,
                "text": redact(comment.text)}

    # API: export --------------------------------------------------------------------

    @router.get("/api/review/export", tags=["review"],
                responses={200: {"content": {"text/csv": {}, "application/json": {}}}, 422: {}})
    async def export(request: Request, user: AuthenticatedUser = Depends(supervisor)) -> StreamingResponse:
        """The filtered list (same parameters as the list, plus ``format`` = csv | json) with
        every message, streamed; at most the export cap (5,000) conversations, newest first."""
        params = request.query_params
        fmt = params.get("format", "csv")
        try:
            if fmt not in ("csv", "json"):
                raise FilterError("format must be csv or json")
            filters = parse_filters(params)
            drill = _drilldown(filters)
        except (FilterError, edits.EditError) as exc:
            raise _unprocessable(exc) from exc
        ids = await run(lambda s: queries.export_ids(s, filters, cap, drill))
        truncated = len(ids) > cap
        ids = ids[:cap]
        await audit(user, "review.export", details={"format": fmt, "filters": filters.as_audit(),
                                                    "conversations": len(ids), "truncated": truncated})
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        headers = {"Content-Disposition": f'attachment; filename="conversations-{stamp}.{fmt}"',
                   "X-Export-Cap": str(cap), "X-Export-Truncated": "true" if truncated else "false",
                   "X-Export-Count": str(len(ids)), "Cache-Control": "no-store"}

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            for start in range(0, len(ids), queries.BATCH):
                chunk = ids[start : start + queries.BATCH]
                yield await run(lambda s, chunk=chunk: queries.export_batch(s, chunk))  # type: ignore[misc]

        async def as_csv() -> AsyncIterator[str]:
            yield _csv_line(list(CSV_COLUMNS))
            async for rows in batches():
                yield "".join(_csv_line(line) for row in rows for line in csv_rows(row))

        async def as_json() -> AsyncIterator[str]:
            head = {"exported_at": utcnow().isoformat(), "filters": filters.as_audit(), "cap": cap,
                    "truncated": truncated, "count": len(ids)}
            yield json.dumps(head)[:-1] + ', "conversations": ['
            first = True
            async for rows in batches():
                for row in rows:
                    yield ("" if first else ",") + json.dumps(row)
                    first = False
            yield "]}"

        if fmt == "csv":
            return StreamingResponse(as_csv(), media_type="text/csv; charset=utf-8", headers=headers)
        return StreamingResponse(as_json(), media_type="application/json", headers=headers)

    return router
