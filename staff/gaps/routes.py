"""FAQ gaps page and API (supervisors and admins).

GET  /gaps                      the page
GET  /api/gaps?from=&to=&channel=&suggest=&limit=
                                clusters of gap questions, ranked by volume (audited)
POST /api/gaps/faq              new FAQ from a cluster -> 202 + rebuild job (audited)
POST /api/gaps/phrasings        phrasings added to an existing FAQ -> 202 + job (audited)
GET  /api/gaps/overlaps         FAQ phrasings that read like another FAQ, and the FAQ pairs
POST /api/gaps/phrasings/move   one phrasing moved to another FAQ, or removed -> 202 + job (audited)
GET  /api/gaps/jobs/{id}        rebuild job: queued | running | done | failed (+ error)

Edits carry the `source_stamp` the page was loaded with: 409 if the FAQ files changed
since; 422 with `problems` (file, line, reason) when the result would not validate.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.components import AuthComponents
from staff.auth.dependencies import AuthenticatedUser
from staff.pages import forbidden_page, page_response, security_headers
from staff.gaps.service import GapsConfig, GapsService, GapsUnavailable
from bot.http_types import InputError, PlainLine, PlainText, calendar_moment
from bot.settings import Settings
from knowledge_base import FaqEntry
from knowledge_base.editing import EditResult, FaqNotFound, SourceChanged
from knowledge_base.validation import FaqValidationError

logger = logging.getLogger(__name__)

STATIC = files("staff") / "gaps" / "static"
STATIC_FILES = {"gaps.css": "text/css", "gaps.js": "text/javascript"}
DEFAULT_DAYS = 30
MAX_DAYS = 366


class NewFaqBody(BaseModel):
    # Emptiness and id syntax are left to the knowledge base's validation, so the reasons
    # read the same as `helpline kb validate` (file:line: reason).
    id: PlainLine = Field(max_length=120)
    question: PlainLine = Field(max_length=500)
    answer: PlainText = Field(max_length=10_000)
    phrasings: list[PlainLine] = Field(default_factory=list, max_length=200)
    category: PlainLine = Field(default="", max_length=64)
    tags: list[PlainLine] = Field(default_factory=list, max_length=20)
    file: PlainLine | None = Field(default=None, max_length=120)
    source_stamp: str = Field(min_length=1, max_length=128)
    cluster_id: str | None = Field(default=None, max_length=64)


class PhrasingsBody(BaseModel):
    faq_id: PlainLine = Field(min_length=1, max_length=120)
    phrasings: list[PlainLine] = Field(min_length=1, max_length=200)
    source_stamp: str = Field(min_length=1, max_length=128)
    cluster_id: str | None = Field(default=None, max_length=64)


class MoveBody(BaseModel):
    faq_id: PlainLine = Field(min_length=1, max_length=120)
    phrasing: PlainLine = Field(min_length=1, max_length=500)
    to_faq_id: PlainLine | None = Field(default=None, min_length=1, max_length=120, description="null: remove it")
    source_stamp: str = Field(min_length=1, max_length=128)


def parse_period(start: str | None, end: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) from ISO dates or datetimes; a date `to` includes that whole day."""
    now = now or datetime.now(timezone.utc)
    until = _moment(end, "to", end_of_day=True) if end else now
    since = _moment(start, "from", end_of_day=False) if start else until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise HTTPException(422, detail="'from' must be before 'to'")
    if until - since > timedelta(days=MAX_DAYS):
        raise HTTPException(422, detail=f"the period may be at most {MAX_DAYS} days")
    return since, until


def _moment(value: str, name: str, *, end_of_day: bool) -> datetime:
    # Days outside 1970..9000 are refused (9999-12-31 + 1 day overflowed into a 500).
    try:
        return calendar_moment(name, value, end_of_day=end_of_day)
    except InputError as exc:
        raise HTTPException(422, detail=str(exc)) from None


def _edit_json(service: GapsService, result: EditResult, job: Any) -> dict[str, Any]:
    try:
        name = str(result.file.relative_to(service.config.faq_dir))
    except ValueError:
        name = result.file.name
    return {
        "faq_id": result.faq_id, "file": name, "added_phrasings": result.added_phrasings,
        "skipped_phrasings": result.skipped_phrasings, "source_stamp": result.source_stamp,
        "removed_phrasings": result.removed_phrasings, "moved_from": result.moved_from,
        "formatting_preserved": result.formatting_preserved, "job": job.as_json(),
    }


def _edit_error(exc: Exception) -> HTTPException:
    if isinstance(exc, FaqValidationError):
        problems = [{"file": p.file, "line": p.line, "reason": p.reason} for p in exc.problems]
        return HTTPException(422, detail={"message": "the FAQ sources would not validate", "problems": problems})
    if isinstance(exc, SourceChanged):
        return HTTPException(409, detail={"message": str(exc), "source_stamp": exc.current_stamp})
    if isinstance(exc, FaqNotFound):
        return HTTPException(404, detail=str(exc))
    raise exc


def _sources_unavailable(exc: OSError) -> HTTPException:
    """The FAQ folder is missing or not writable (a deployment problem, not the request's):
    503 with the reason instead of a bare 500."""
    logger.error("FAQ sources unavailable for an edit: %s", exc)
    return HTTPException(503, detail=f"the FAQ sources cannot be edited here: {exc.strerror or exc}")


def build_gaps_router(
    auth: AuthComponents,
    sessions: sessionmaker[Session],
    settings: Settings | GapsConfig,
    *,
    service: GapsService | None = None,
) -> APIRouter:
    """Routes of the FAQ gaps page. `settings` may be the gateway's Settings or a GapsConfig."""
    config = settings if isinstance(settings, GapsConfig) else GapsConfig.from_settings(settings)
    gaps = service or GapsService(sessions, config)
    supervisor = auth.require_roles("supervisor")
    router = APIRouter()
    router.gaps_service = gaps  # type: ignore[attr-defined]  # for tests and the lead's wiring

    @router.get("/gaps", include_in_schema=False)
    async def gaps_page(user: AuthenticatedUser = Depends(auth.current_user)) -> HTMLResponse:
        # An agent gets a page saying why (as on /review and /dashboard), not JSON.
        if not user.has_role("supervisor"):
            return forbidden_page(user, what="The FAQ gaps page", stylesheet="/console/static/console.css",
                                  links=[("/console", "Back to the console")], headers=security_headers(),
                                  body_class="forbidden")
        return page_response(STATIC / "gaps.html", user)

    @router.get("/gaps/static/{name}", include_in_schema=False)
    async def gaps_static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(404)
        return FileResponse(str(STATIC / name), media_type=STATIC_FILES[name])

    @router.get("/api/gaps", tags=["faq gaps"])
    async def list_gaps(
        start: str | None = Query(None, alias="from", max_length=40),
        end: str | None = Query(None, alias="to", max_length=40),
        channel: str | None = Query(None, max_length=16),
        suggest: bool = Query(True, description="include questions that only got suggestions"),
        limit: int = Query(100, ge=1, le=500, description="clusters returned"),
        user: AuthenticatedUser = Depends(supervisor),
    ) -> dict[str, Any]:
        """Gap questions in the period clustered by meaning, biggest first, with the nearest
        existing FAQ of each cluster and what the page should propose."""
        since, until = parse_period(start, end)
        try:
            report = await gaps.report(since, until, channel=channel or None, include_suggest=suggest, limit=limit)
        except GapsUnavailable as exc:
            raise HTTPException(503, detail=str(exc)) from None
        sources = await gaps.sources()
        await auth.audit.record(
            "gaps.read", actor=user.actor, target_type="faq_gaps",
            details={"from": since.isoformat(), "to": until.isoformat(), "channel": channel,
                     "suggest": suggest, "questions": report["totals"]["questions"],
                     "clusters": report["totals"]["clusters_shown"]},
        )
        return {
            "period": {"from": since.isoformat(), "to": until.isoformat()},
            "channel": channel, "include_suggest": suggest, **report, **sources,
        }

    @router.get("/api/gaps/overlaps", tags=["faq gaps"])
    async def list_overlaps(
        limit: int = Query(50, ge=1, le=1000, description="phrasings and FAQ pairs returned"),
        user: AuthenticatedUser = Depends(supervisor),
    ) -> dict[str, Any]:
        """FAQ phrasings that sit closer to another FAQ than to their own (or within the
        answer policy's margin), worst first, and the FAQ pairs that overlap most."""
        try:
            return await gaps.overlaps(limit)
        except GapsUnavailable as exc:
            raise HTTPException(503, detail=str(exc)) from None

    @router.post("/api/gaps/faq", tags=["faq gaps"], status_code=202)
    async def create_faq(body: NewFaqBody, user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """Write a new FAQ to the YAML sources and start an index rebuild."""
        entry = FaqEntry(id=body.id, question=body.question, answer=body.answer, phrasings=body.phrasings,
                         category=body.category, tags=body.tags)
        try:
            result, job = await gaps.create_faq(entry, file=body.file, stamp=body.source_stamp)
        except (FaqValidationError, SourceChanged, FaqNotFound) as exc:
            raise _edit_error(exc) from None
        except OSError as exc:
            raise _sources_unavailable(exc) from None
        out = _edit_json(gaps, result, job)
        await auth.audit.record(
            "faq.create", actor=user.actor, target_type="faq", target_id=result.faq_id,
            details={"file": out["file"], "question": entry.question, "phrasings": out["added_phrasings"],
                     "category": entry.category, "cluster_id": body.cluster_id, "job_id": job.id,
                     "formatting_preserved": result.formatting_preserved},
        )
        return out

    @router.post("/api/gaps/phrasings", tags=["faq gaps"], status_code=202)
    async def add_phrasings(body: PhrasingsBody, user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """Add phrasings to an existing FAQ and start an index rebuild."""
        try:
            result, job = await gaps.add_phrasings(body.faq_id, body.phrasings, stamp=body.source_stamp)
        except (FaqValidationError, SourceChanged, FaqNotFound) as exc:
            raise _edit_error(exc) from None
        except OSError as exc:
            raise _sources_unavailable(exc) from None
        out = _edit_json(gaps, result, job)
        await auth.audit.record(
            "faq.add_phrasings", actor=user.actor, target_type="faq", target_id=result.faq_id,
            details={"file": out["file"], "phrasings": out["added_phrasings"], "skipped": out["skipped_phrasings"],
                     "cluster_id": body.cluster_id, "job_id": job.id,
                     "formatting_preserved": result.formatting_preserved},
        )
        return out

    @router.post("/api/gaps/phrasings/move", tags=["faq gaps"], status_code=202)
    async def move_phrasing(body: MoveBody, user: AuthenticatedUser = Depends(supervisor)) -> dict[str, Any]:
        """Move one phrasing to another FAQ (`to_faq_id`), or remove it (`to_faq_id` null),
        and start an index rebuild."""
        try:
            result, job = await gaps.move_phrasing(body.faq_id, body.phrasing, body.to_faq_id, stamp=body.source_stamp)
        except (FaqValidationError, SourceChanged, FaqNotFound) as exc:
            raise _edit_error(exc) from None
        except OSError as exc:
            raise _sources_unavailable(exc) from None
        out = _edit_json(gaps, result, job)
        await auth.audit.record(
            "faq.move_phrasing" if body.to_faq_id else "faq.remove_phrasing", actor=user.actor,
            target_type="faq", target_id=body.faq_id,
            details={"phrasing": result.removed_phrasings, "to": body.to_faq_id, "file": out["file"],
                     "job_id": job.id, "formatting_preserved": result.formatting_preserved},
        )
        return out

    @router.get("/api/gaps/jobs/{job_id}", tags=["faq gaps"])
    async def job_status(job_id: str, user: AuthenticatedUser = Depends(supervisor)) -> JSONResponse:
        """State of an index rebuild started by an edit."""
        job = gaps.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, detail="no such job (jobs are kept in memory until restart)")
        return JSONResponse(job.as_json())

    return router
