"""Agent console: the page and its JSON API (documented in the gateway's OpenAPI).

Every route requires a signed-in user with at least the agent role; CSRF is enforced by
the auth dependency on every unsafe method. Handoff's errors map to HTTP: unknown
ticket 404, not yours 403, already claimed / illegal move 409 (with the fresh queue).
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from staff.auth.components import AuthComponents
from staff.auth.dependencies import AuthenticatedUser
from staff.pages import page_response
from staff.console.events import message_json
from bot.desk import HelpDesk
from bot.transcript.button_titles import display_texts
from bot.transcript.store import TranscriptStore
from bot.http_types import PlainText, RowId
from handoff.errors import Conflict, Forbidden, HandoffError, NotFound

logger = logging.getLogger(__name__)

STATIC = files("staff") / "console" / "static"
MAX_TEXT = 4000


class TextBody(BaseModel):
    text: PlainText = Field(min_length=1, max_length=MAX_TEXT)


class NoteBody(BaseModel):
    note: PlainText = Field(default="", max_length=MAX_TEXT)


class ResolveBody(BaseModel):
    note: PlainText = Field(min_length=1, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=32)


class TransferBody(BaseModel):
    agent_id: RowId


class PresenceBody(BaseModel):
    status: str = Field(pattern="^(online|away|offline)$")


class SuggestionClient:
    """Suggested answers come from the action server, which already holds the index."""

    def __init__(self, action_server_webhook: str) -> None:
        self._url = action_server_webhook.rsplit("/webhook", 1)[0] + "/kb/suggest"
        self._http = httpx.AsyncClient(timeout=3.0)

    async def suggest(self, query: str) -> list[dict[str, Any]]:
        try:
            response = await self._http.get(self._url, params={"q": query})
            response.raise_for_status()
            return list(response.json().get("suggestions", []))
        except (httpx.HTTPError, ValueError):
            logger.warning("suggestions unavailable from the action server")
            return []

    async def aclose(self) -> None:
        await self._http.aclose()


def with_display_text(body: dict[str, Any], shown: str | None) -> dict[str, Any]:
    # A button press is stored as its payload; agents read the button's title instead
    # ("text" keeps the payload for API clients).
    if shown is not None:
        body["display_text"] = shown
    return body


def handoff_error(exc: HandoffError) -> HTTPException:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 409
    return HTTPException(status, detail=exc.reason if hasattr(exc, "reason") else str(exc))


def build_console_router(
    auth: AuthComponents, desk: HelpDesk, store: TranscriptStore, suggestions: SuggestionClient
) -> APIRouter:
    router = APIRouter()
    agent = auth.require_roles("agent")

    async def names() -> dict[int, str]:
        users = await auth.users.run(auth.users.list)
        return {u.id: u.display_name for u in users}

    @router.get("/console", include_in_schema=False)
    async def console_page(user: AuthenticatedUser = Depends(agent)) -> HTMLResponse:
        return page_response(STATIC / "console.html", user)

    @router.get("/api/queue", tags=["console"])
    async def queue(user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        """Waiting tickets (priority, then SLA) and the caller's own open tickets."""

        def work(session: Session) -> dict[str, Any]:
            waiting = [desk.summary(session, desk.handoff.get_ticket(session, e.ticket_id))
                       for e in desk.handoff.queue(session)]
            mine = [desk.summary(session, t) for t in desk.tickets_of_agent(session, user.id)]
            return {"queue": [t.as_json() for t in waiting], "mine": [t.as_json() for t in mine]}

        return await desk.run(work)

    @router.get("/api/tickets/{ticket_id}", tags=["console"])
    async def ticket(ticket_id: RowId, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        """A ticket with the full transcript (bot part and FAQ trails), notes, events and
        the customer's other tickets."""
        try:
            def work(session: Session) -> dict[str, Any]:
                row = desk.handoff.get_ticket(session, ticket_id)
                summary = desk.summary(session, row)
                return {
                    "ticket": summary,
                    "notes": [{"author_id": n.agent_id, "text": n.text, "at": n.at.isoformat()}
                              for n in desk.handoff.notes(session, ticket_id)],
                    "events": [{"kind": e.kind, "at": e.at.isoformat(), "actor": f"{e.actor_kind}:{e.actor_id or ''}",
                                "from": e.from_status, "to": e.to_status, "note": e.note}
                               for e in desk.handoff.events(session, ticket_id)],
                    "past": [desk.summary(session, t) for t in desk.handoff.tickets_of(session, row.conversation_id)
                             if t.id != ticket_id],
                }

            data = await desk.run(work)
        except HandoffError as exc:
            raise handoff_error(exc) from exc
        t = data["ticket"]
        people = await names()
        conversation = await store.conversation(t.conversation_id)
        messages = await store.history(t.conversation_id, limit=500)
        body = t.as_json()
        body["assignee_name"] = people.get(t.assignee_id) if t.assignee_id else None
        return {
            "ticket": body,
            "messages": [with_display_text(message_json(m), shown)
                         for m, shown in zip(messages, display_texts(messages))],
            "notes": [{"author": people.get(n["author_id"], "agent"), "text": n["text"], "at": n["at"]}
                      for n in data["notes"]],
            "events": data["events"],
            "customer": {
                "conversation_id": t.conversation_id, "channel": t.channel,
                "created_at": conversation.created_at.isoformat() if conversation else None,
                "past_tickets": [{"number": p.number, "status": p.status, "reason": p.reason}
                                 for p in data["past"]],
            },
            "categories": sorted(desk.handoff.policy.categories),
        }

    async def guarded(call: Any) -> Any:
        try:
            return await call
        except Conflict as exc:
            # The console refreshes its queue on 409 (someone else was quicker).
            raise HTTPException(409, detail=getattr(exc, "reason", str(exc)),
                                headers={"X-Queue-Changed": "1"}) from exc
        except HandoffError as exc:
            raise handoff_error(exc) from exc

    @router.post("/api/tickets/{ticket_id}/claim", tags=["console"],
                 responses={409: {"description": "already claimed by someone else"}, 404: {}})
    async def claim(ticket_id: RowId, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        ticket = await guarded(desk.claim(ticket_id, user.id))
        await auth.audit.record("ticket.claim", actor=user.actor, target_type="ticket", target_id=ticket_id)
        return ticket.as_json()

    @router.post("/api/tickets/{ticket_id}/messages", tags=["console"], status_code=201,
                 responses={403: {"description": "you do not own this conversation"}, 404: {}})
    async def send(ticket_id: RowId, body: TextBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        message = await guarded(desk.agent_message(ticket_id, user.id, body.text))
        await auth.audit.record("ticket.message", actor=user.actor, target_type="ticket", target_id=ticket_id)
        return {"message": message_json(message)}

    @router.post("/api/tickets/{ticket_id}/notes", tags=["console"], status_code=201)
    async def note(ticket_id: RowId, body: TextBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        try:
            await guarded(desk.run(lambda s: desk.handoff.add_note(s, ticket_id, user.id, body.text)))
        except ValueError as exc:  # blank after trimming, or too long: the reason is handoff's
            raise HTTPException(422, detail=f"note refused: {exc}") from exc
        await auth.audit.record("ticket.note", actor=user.actor, target_type="ticket", target_id=ticket_id)
        return {"status": "added"}

    @router.post("/api/tickets/{ticket_id}/transfer", tags=["console"])
    async def transfer(ticket_id: RowId, body: TransferBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        # Supervisors and admins may move another agent's ticket (docs/access.md); an agent
        # only their own.
        overseer = user.has_role("supervisor")
        ticket = await guarded(desk.transfer(ticket_id, user.id, body.agent_id, overseer=overseer))
        await auth.audit.record("ticket.transfer", actor=user.actor, target_type="ticket", target_id=ticket_id,
                                details={"to_agent": body.agent_id, "overseer": overseer})
        return ticket.as_json()

    @router.post("/api/tickets/{ticket_id}/resolve", tags=["console"])
    async def resolve(ticket_id: RowId, body: ResolveBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        if body.category is not None and body.category not in desk.handoff.policy.categories:
            raise HTTPException(422, detail=f"unknown category {body.category!r}")
        ticket = await guarded(desk.finish(ticket_id, user.id, body.note, resolve=True, category=body.category))
        await auth.audit.record("ticket.resolve", actor=user.actor, target_type="ticket", target_id=ticket_id)
        return ticket.as_json()

    @router.post("/api/tickets/{ticket_id}/hand-back", tags=["console"])
    async def hand_back(ticket_id: RowId, body: NoteBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        ticket = await guarded(desk.finish(ticket_id, user.id, body.note, resolve=False))
        await auth.audit.record("ticket.hand_back", actor=user.actor, target_type="ticket", target_id=ticket_id)
        desk.on_hand_back(ticket.conversation_id, ticket.channel)
        return ticket.as_json()

    @router.get("/api/agents", tags=["console"])
    async def agents(user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        users = await auth.users.run(auth.users.list)
        online = set(await desk.run(lambda s: desk.handoff.agents_online(s)))
        return {"agents": [{"id": u.id, "display_name": u.display_name,
                            "presence": "online" if u.id in online else "offline"}
                           for u in users if u.active]}

    @router.post("/api/presence", tags=["console"])
    async def presence(body: PresenceBody, user: AuthenticatedUser = Depends(agent)) -> dict[str, str]:
        await desk.set_presence(user.id, body.status)
        return {"status": body.status}

    @router.get("/api/suggestions", tags=["console"])
    async def suggest(q: str = Query(min_length=1, max_length=500),
                      user: AuthenticatedUser = Depends(agent)) -> dict[str, Any]:
        """FAQ answers matching what the agent is typing (search as you type)."""
        return {"suggestions": await suggestions.suggest(q)}

    return router
