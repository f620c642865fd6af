"""Real time for agents: socket.io namespace ``/console``.

Connections are authenticated with the console session cookie (and its CSRF token in
the handshake). Every agent is in the room ``agents`` (queue changes); an agent watching
a ticket is in ``ticket:<id>`` (its messages). When an agent's last connection drops,
their conversations go back to the queue after the grace period unless they reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any, Awaitable, Callable

import socketio

from bot.coordination.connections import AgentConnections, LocalConnections
from staff.auth.components import AuthComponents
from bot.transcript.store import StoredMessage

logger = logging.getLogger(__name__)

NAMESPACE = "/console"
# An agent typing is passed to the customer at most this often (per console connection).
TYPING_INTERVAL_SECONDS = 2.0


def message_json(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id, "direction": message.direction, "author": message.author,
        "text": message.text, "created_at": message.created_at.isoformat(),
        "intent": message.intent, "intent_confidence": message.intent_confidence,
        "faq_trail": message.faq_trail, "feedback": message.feedback, "status": message.status,
    }


class SocketConsole:
    """``ConsoleEvents`` over socket.io, plus agent connection tracking."""

    def __init__(
        self, sio: socketio.AsyncServer, auth: AuthComponents, grace_seconds: float,
        connections: AgentConnections | None = None,
    ) -> None:
        self._sio = sio
        self._auth = auth
        self._grace = grace_seconds
        self._connections: dict[int, set[str]] = defaultdict(set)  # this replica's sockets
        # Every replica's (Redis with replicas): a console that reconnected to another
        # replica keeps its agent's chats when this replica's grace period runs out.
        self._everywhere: AgentConnections = connections or LocalConnections()
        self._release_timers: dict[int, asyncio.Task[None]] = {}
        self.on_agent_gone: Callable[[int], Awaitable[Any]] | None = None
        self.on_agent_back: Callable[[int], Awaitable[Any]] | None = None
        # (agent_id, ticket_id): the agent is typing in that ticket's chat.
        self.on_agent_typing: Callable[[int, int], Awaitable[Any]] | None = None
        self._last_typing: dict[str, float] = {}
        sio.on("connect", self._connect, namespace=NAMESPACE)
        sio.on("disconnect", self._disconnect, namespace=NAMESPACE)
        sio.on("watch", self._watch, namespace=NAMESPACE)
        sio.on("typing", self._typing, namespace=NAMESPACE)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        user = await self._auth.socket_user(environ, auth if isinstance(auth, dict) else None)
        if user is None:
            return False  # the client sees a connect_error
        await self._sio.save_session(sid, {"user_id": user.id}, namespace=NAMESPACE)
        await self._sio.enter_room(sid, "agents", namespace=NAMESPACE)
        self._connections[user.id].add(sid)
        first = await self._everywhere.add(user.id, sid)
        timer = self._release_timers.pop(user.id, None)
        if timer is not None:
            timer.cancel()
        if first and self.on_agent_back is not None:
            await self.on_agent_back(user.id)
        return True

    async def _disconnect(self, sid: str, *_: Any) -> None:
        session = await self._sio.get_session(sid, namespace=NAMESPACE)
        user_id = session.get("user_id") if session else None
        if user_id is None:
            return
        self._connections[user_id].discard(sid)
        self._last_typing.pop(sid, None)
        if await self._everywhere.remove(user_id, sid):
            self._release_timers[user_id] = asyncio.create_task(self._release_later(user_id))

    async def _release_later(self, user_id: int) -> None:
        await asyncio.sleep(self._grace)
        self._release_timers.pop(user_id, None)
        if self.on_agent_gone is not None and not await self._everywhere.connected(user_id):
            try:
                await self.on_agent_gone(user_id)
            except Exception:
                logger.exception("releasing agent %s failed", user_id)

    async def _watch(self, sid: str, data: Any = None) -> dict[str, Any]:
        ticket_id = data.get("ticket_id") if isinstance(data, dict) else None
        if not isinstance(ticket_id, int):
            return {"error": "watch needs {ticket_id: <number>}"}
        for room in self._sio.rooms(sid, namespace=NAMESPACE):
            if room.startswith("ticket:"):
                await self._sio.leave_room(sid, room, namespace=NAMESPACE)
        await self._sio.enter_room(sid, f"ticket:{ticket_id}", namespace=NAMESPACE)
        return {"watching": ticket_id}

    async def _typing(self, sid: str, data: Any = None) -> None:
        """``{ticket_id}`` while the agent types a reply; rate-limited, then passed on."""
        ticket_id = data.get("ticket_id") if isinstance(data, dict) else None
        now = time.monotonic()
        if not isinstance(ticket_id, int) or now - self._last_typing.get(sid, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
            return
        self._last_typing[sid] = now
        session = await self._sio.get_session(sid, namespace=NAMESPACE)
        user_id = session.get("user_id") if session else None
        if user_id is not None and self.on_agent_typing is not None:
            await self.on_agent_typing(user_id, ticket_id)

    def connected(self, agent_id: int) -> bool:
        return bool(self._connections.get(agent_id))

    # -- ConsoleEvents -----------------------------------------------------------------

    async def queue_changed(self) -> None:
        await self._sio.emit("queue_changed", {}, room="agents", namespace=NAMESPACE)

    async def ticket_changed(self, ticket_id: int) -> None:
        await self._sio.emit("ticket_changed", {"ticket_id": ticket_id}, room="agents", namespace=NAMESPACE)

    async def ticket_message(self, ticket_id: int, message: StoredMessage) -> None:
        await self._sio.emit(
            "ticket_message", {"ticket_id": ticket_id, "message": message_json(message)},
            room=f"ticket:{ticket_id}", namespace=NAMESPACE,
        )
        if message.direction == "in":
            # Every console hears that a customer wrote (the ticket id only, no text) and
            # alerts its agent when the ticket is theirs (static/alerts.js): an agent need
            # not keep each of their chats open to notice.
            await self._sio.emit("customer_message", {"ticket_id": ticket_id}, room="agents", namespace=NAMESPACE)
        await self.queue_changed()

    async def shutdown(self) -> None:
        for timer in self._release_timers.values():
            timer.cancel()
        await self._everywhere.close()
