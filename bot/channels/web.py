"""Web chat over socket.io, speaking Rasa's socket.io channel protocol exactly.

Existing Rasa widgets (rasa-webchat 1.x), our chat page and our embeddable widget
(bot/static/) all use it: the client emits ``session_request`` and gets
``session_confirm`` with a server-signed conversation id; it emits ``user_uttered``
``{message, message_id?, customData?, session_id?}`` and receives ``bot_uttered``.

``bot_uttered`` carries Rasa's keys only (``text``, ``quick_replies``) plus
``metadata``, where everything of ours lives (message id, author, status). Widgets
dispatch on the top-level keys: rasa-webchat shows a message whose keys are exactly
``text`` (+ ``quick_replies``/``buttons``) after removing ``metadata``, and drops anything
else as a custom component. Our metadata keys avoid the ones rasa-webchat acts on
(``linkTarget``, ``userInput``, ``forceOpen``, ``forceClose``, ``customCss``, ...).

A client cannot pick its conversation: an id it presents is honoured only if we signed
it, otherwise it gets a new one. A ``user_uttered`` without ``message`` (rasa-webchat's
default, no ``initPayload``) or with ``/get_started`` starts the conversation: the bot is
asked to greet, as Telegram's ``/start`` does.

Our additions, ignored by other widgets: the ``user_uttered`` acknowledgement
(``{status, message_id, duplicate}``, sent only after the message is stored),
``helpline_notice`` for ignored or refused input, ``helpline_error`` for malformed
payloads, ``history_request`` -> ``history`` to redraw a conversation after reload, and
``helpline_agent`` ``{state: joined|left|typing, name}`` while an agent has the chat.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

import socketio
from starlette.responses import Response

from bot.conversation_ids import ConversationIdSigner
from bot.desk import ConsoleEvents, HelpDesk
from bot.pipeline import REPLACEMENT_NOTICE, Inbound, MessagePipeline, readable_text
from bot.ratelimit import ChatFloodGuard, ChatRefused
from bot.channels.zones import CustomerZones
from bot.transcript.store import StoredMessage, TranscriptStore

logger = logging.getLogger(__name__)

CHANNEL = "web"
MAX_CLIENT_ID = 64
# What starts a conversation: no message at all (rasa-webchat without initPayload) or the
# initPayload rasa-webchat's documentation suggests. Both become the greeting payload.
START_PAYLOADS = frozenset({"/get_started"})
GREETING_PAYLOAD = "/greet"


def bot_uttered_payload(message: StoredMessage) -> dict[str, Any]:
    """Rasa's socket.io message shape: Rasa's keys at the top, ours under metadata."""
    payload: dict[str, Any] = {"text": message.text}
    if message.buttons:
        payload["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]}
            for b in message.buttons
        ]
    payload["metadata"] = {"id": message.id, "author": message.author, "status": message.status}
    return payload


def history_item(message: StoredMessage) -> dict[str, Any]:
    item = bot_uttered_payload(message)
    item["metadata"]["direction"] = message.direction
    item["metadata"]["created_at"] = message.created_at.isoformat()
    if message.direction == "in" and message.client_message_id:
        # The client's own id: a page re-sending a message it never saw acknowledged
        # can tell it is already stored.
        item["metadata"]["client_message_id"] = message.client_message_id
    return item


def notice_utterance(kind: str, text: str) -> dict[str, Any]:
    """A refusal as a message Rasa widgets display (they ignore ``helpline_notice``);
    our own pages show the notice instead and skip messages marked ``notice``."""
    return {"text": text, "metadata": {"author": "system", "notice": kind}}


class WebChannel:
    name = CHANNEL

    def __init__(
        self,
        sio: socketio.AsyncServer,
        signer: ConversationIdSigner,
        store: TranscriptStore,
        max_message_chars: int,
        flood: ChatFloodGuard | None = None,
    ) -> None:
        self._flood = flood  # rate limits of the public chat (bot/ratelimit.py)
        self._sio = sio
        self._signer = signer
        self._store = store
        self._max_chars = max_message_chars
        self._pipeline: MessagePipeline | None = None
        # Set by the composition root: the name of the agent holding a conversation, if
        # any, so a page redrawn after a reload knows who it is talking to.
        self.agent_of: Callable[[str], Awaitable[str | None]] | None = None
        self.zones = CustomerZones()  # the customer's own time zone, as their page reports it

    def attach(self, pipeline: MessagePipeline) -> None:
        self._pipeline = pipeline
        self._sio.on("connect", self._on_connect)
        self._sio.on("session_request", self._on_session_request)
        self._sio.on("user_uttered", self._on_user_uttered)
        self._sio.on("history_request", self._on_history_request)

    async def deliver(self, conversation_id: str, messages: list[StoredMessage]) -> None:
        for message in messages:
            await self._sio.emit("bot_uttered", bot_uttered_payload(message), room=conversation_id)

    async def agent_signal(self, conversation_id: str, state: str, name: str | None) -> None:
        """Tell the customer's pages that an agent joined, left or is typing."""
        await self._sio.emit("helpline_agent", {"state": state, "name": name}, room=conversation_id)

    def customer_zone(self, conversation_id: str) -> ZoneInfo | None:
        """The zone the customer's page reported (HelpDesk shows due times in it)."""
        return self.zones.zone(conversation_id)

    # -- protocol handlers -------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    async def _on_session_request(self, sid: str, data: Any = None) -> None:
        presented = data.get("session_id") if isinstance(data, dict) else None
        conversation_id = self._signer.verify(presented)
        if conversation_id is None:
            refusal = self._flood and await self._flood.new_conversation_refusal(self._sio.get_environ(sid))
            if refusal:
                await self._refuse(sid, "refused", "rate_limited", refusal)
                return
            conversation_id, signed = self._signer.new()
        else:
            signed = presented
        previous = await self._conversation_of(sid)
        if previous is not None and previous != conversation_id:
            # The widget follows a conversation another tab started: one room at a time.
            await self._sio.leave_room(sid, previous)
        await self._sio.save_session(sid, {"conversation_id": conversation_id})
        self.zones.remember(conversation_id, data)
        await self._sio.enter_room(sid, conversation_id)
        # Rasa's channel sends the bare id; rasa-webchat accepts either form.
        await self._sio.emit("session_confirm", signed, to=sid)

    async def _conversation_of(self, sid: str) -> str | None:
        session = await self._sio.get_session(sid)
        return session.get("conversation_id") if session else None

    async def _on_user_uttered(self, sid: str, data: Any = None) -> dict[str, Any]:
        problem = _malformed(data)
        if problem:
            await self._sio.emit("helpline_error", {"error": problem}, to=sid)
            return {"status": "error", "error": problem}
        conversation_id = await self._conversation_of(sid)
        if conversation_id is None:
            error = "send session_request before user_uttered"
            await self._sio.emit("helpline_error", {"error": error}, to=sid)
            return {"status": "error", "error": error}
        text, replaced = readable_text(_customer_text(data))
        if not text.strip():
            return await self._refuse(sid, "ignored", "empty", "Empty message ignored.")
        if len(text) > self._max_chars:
            reason = f"Message too long: {len(text)} characters (limit {self._max_chars})."
            return await self._refuse(sid, "refused", "too_long", reason)
        assert self._pipeline is not None
        flood, environ = self._flood, self._sio.get_environ(sid)
        try:  # flooding: not stored, not answered (docs/architecture.md, "Abuse")
            result = await self._pipeline.accept(
                Inbound(conversation_id, CHANNEL, text, _client_message_id(data)),
                admit=flood and (lambda: flood.message_refusal(conversation_id, environ)),
            )
        except ChatRefused as refused:
            return await self._refuse(sid, "refused", "rate_limited", refused.notice)
        if replaced:  # stored with U+FFFD for what could not be read; the customer knows
            await self._sio.emit("helpline_notice", {"type": "replaced", "text": REPLACEMENT_NOTICE}, to=sid)
        if result.duplicate:
            # Re-sent after a lost acknowledgement: show the stored answer, ask nobody.
            for reply in await self._pipeline.replies_to(result.message.id):
                await self._sio.emit("bot_uttered", bot_uttered_payload(reply), to=sid)
        return {"status": "stored", "message_id": result.message.id, "duplicate": result.duplicate}

    async def _refuse(self, sid: str, status: str, kind: str, reason: str) -> dict[str, Any]:
        await self._sio.emit("helpline_notice", {"type": kind, "text": reason}, to=sid)
        if kind != "empty":  # Rasa widgets never send empty text; a refusal they must show
            await self._sio.emit("bot_uttered", notice_utterance(kind, reason), to=sid)
        return {"status": status, "reason": reason}

    async def _on_history_request(self, sid: str, data: Any = None) -> None:
        conversation_id = await self._conversation_of(sid)
        if conversation_id is None:
            await self._sio.emit("helpline_error", {"error": "no session"}, to=sid)
            return
        messages = await self._store.history(conversation_id)
        await self._sio.emit("history", {"messages": [history_item(m) for m in messages]}, to=sid)
        agent = await self._agent_holding(conversation_id)
        if agent is not None:
            await self._sio.emit("helpline_agent", {"state": "joined", "name": agent}, to=sid)

    async def _agent_holding(self, conversation_id: str) -> str | None:
        if self.agent_of is None:
            return None
        try:
            return await self.agent_of(conversation_id)
        except Exception:  # the history matters more than the header line
            logger.exception("could not look up the agent of conversation %s", conversation_id)
            return None


@dataclass(frozen=True)
class TicketHolder:
    """Who has a ticket's conversation: ``agent_id`` is None unless an agent holds it."""

    conversation_id: str
    channel: str
    agent_id: int | None


class AgentSignals:
    """The desk's ``ConsoleEvents`` passed on to the consoles, plus what a web customer
    should see of them: an agent joined (or left) their chat, an agent is typing.

    ``holder`` looks up a ticket's conversation and agent (one small read, only when a
    ticket changed or a typing signal arrived, which the console rate-limits); it is set
    once the desk exists (``ticket_holders(desk)``), since the desk is built with this.
    """

    def __init__(self, console: ConsoleEvents, web: WebChannel, agent_names: Callable[[int], Awaitable[str]]) -> None:
        self._console = console
        self._web = web
        self._agent_names = agent_names
        self.holder: Callable[[int], Awaitable[TicketHolder | None]] | None = None

    async def queue_changed(self) -> None:
        await self._console.queue_changed()

    async def ticket_message(self, ticket_id: int, message: StoredMessage) -> None:
        await self._console.ticket_message(ticket_id, message)

    async def ticket_changed(self, ticket_id: int) -> None:
        await self._console.ticket_changed(ticket_id)
        holder = await self._web_holder(ticket_id)
        if holder is None:
            return
        if holder.agent_id is None:
            await self._web.agent_signal(holder.conversation_id, "left", None)
        else:
            await self._web.agent_signal(holder.conversation_id, "joined", await self._agent_names(holder.agent_id))

    async def agent_typing(self, agent_id: int, ticket_id: int) -> None:
        """From the console: only the agent holding a web chat can show as typing in it."""
        holder = await self._web_holder(ticket_id)
        if holder is not None and holder.agent_id == agent_id:
            await self._web.agent_signal(holder.conversation_id, "typing", await self._agent_names(agent_id))

    async def _web_holder(self, ticket_id: int) -> TicketHolder | None:
        if self.holder is None:
            return None
        try:
            holder = await self.holder(ticket_id)
        except Exception:  # a lost signal must never break the desk's own work
            logger.exception("could not look up ticket %s for the customer's page", ticket_id)
            return None
        return holder if holder is not None and holder.channel == CHANNEL else None


WIDGET_CONFIG_PLACEHOLDER = '"__HELPLINE_WIDGET_CONFIG__"'
WIDGET_SOCKET_IO_PLACEHOLDER = "/* __HELPLINE_SOCKET_IO__ */"


def widget_script(
    template: str, socket_io: str, *, title: str, color: str, greeting: str, max_chars: int
) -> str:
    """bot/static/widget.js with the operator's settings and the socket.io client bundle
    (bot/static/vendor/socket.io.min.js) in place of its two placeholders.

    JSON is a JavaScript expression, and ensure_ascii keeps U+2028/2029 out of the source.
    """
    config = {"title": title, "color": color, "greeting": greeting, "maxChars": max_chars}
    if WIDGET_CONFIG_PLACEHOLDER not in template or WIDGET_SOCKET_IO_PLACEHOLDER not in template:
        raise ValueError("widget.js lost a placeholder")
    script = template.replace(WIDGET_CONFIG_PLACEHOLDER, json.dumps(config, ensure_ascii=True), 1)
    # Without its source-map comment: the map is not served, browsers would ask for it.
    client = "\n".join(line for line in socket_io.splitlines() if not line.startswith("//# sourceMappingURL"))
    return script.replace(WIDGET_SOCKET_IO_PLACEHOLDER, client + "\n", 1)


class WidgetScript:
    """``/widget.js`` as served: built once at start, kept plain and gzip-compressed
    (about 62 KB and 20 KB with the socket.io client), cached by browsers for 5 minutes."""

    def __init__(self, source: str) -> None:
        self.plain = source.encode()
        self.gzipped = gzip.compress(self.plain, compresslevel=9, mtime=0)

    def response(self, accept_encoding: str) -> Response:
        headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
        if _accepts_gzip(accept_encoding):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type="text/javascript", headers=headers)
        return Response(self.plain, media_type="text/javascript", headers=headers)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def ticket_holders(desk: HelpDesk) -> Callable[[int], Awaitable[TicketHolder | None]]:
    """``AgentSignals``' lookup: a ticket's conversation, and its agent while one holds it."""

    def read(session: Any, ticket_id: int) -> TicketHolder:
        ticket = desk.handoff.get_ticket(session, ticket_id)
        owner = desk.handoff.owner_of(session, ticket.conversation_id)
        agent = owner.agent_id if owner.ticket_id == ticket.id else None
        return TicketHolder(ticket.conversation_id, ticket.channel, agent)

    async def holder(ticket_id: int) -> TicketHolder | None:
        return await desk.run(lambda session: read(session, ticket_id))

    return holder


def conversation_agents(
    desk: HelpDesk, agent_names: Callable[[int], Awaitable[str]]
) -> Callable[[str], Awaitable[str | None]]:
    """``WebChannel.agent_of``: who holds a conversation (one small read per history)."""

    async def agent_of(conversation_id: str) -> str | None:
        owner = await desk.run(lambda session: desk.handoff.owner_of(session, conversation_id))
        return await agent_names(owner.agent_id) if owner.agent_id is not None else None

    return agent_of


def _customer_text(data: dict[str, Any]) -> str:
    message = data.get("message")
    if message is None or message.strip() in START_PAYLOADS:
        return GREETING_PAYLOAD
    return str(message)


def _client_message_id(data: dict[str, Any]) -> str | None:
    custom = data.get("customData") if isinstance(data.get("customData"), dict) else {}
    value = data.get("message_id") or custom.get("message_id")
    return str(value)[:MAX_CLIENT_ID] if value not in (None, "") else None


def _malformed(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "user_uttered expects an object like {\"message\": \"...\"}"
    if data.get("message") is not None and not isinstance(data["message"], str):
        return "user_uttered's 'message' must be a string"
    message_id = data.get("message_id")
    if message_id is not None and not isinstance(message_id, (str, int)):
        return "message_id must be a string"
    return None
