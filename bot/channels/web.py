"""Web chat over socket.io, speaking Rasa's socket.io widget protocol.

Compatible with rasa-webchat 1.x and our own page (bot/static/): the client emits
``session_request`` and gets ``session_confirm`` with a server-signed conversation id;
it emits ``user_uttered`` ``{message, message_id?}`` and receives ``bot_uttered``
``{text, quick_replies}``. A client cannot pick its conversation: an id it presents is
honoured only if we signed it, otherwise it gets a new one.

Our additions, ignored by other widgets: the ``user_uttered`` acknowledgement
(``{status, message_id, duplicate}``, sent only after the message is stored),
``helpline_notice`` for ignored or refused input, ``helpline_error`` for malformed
payloads, and ``history_request`` -> ``history`` to redraw a conversation after reload.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from bot.conversation_ids import ConversationIdSigner
from bot.pipeline import Inbound, MessagePipeline
from bot.transcript.store import StoredMessage, TranscriptStore

logger = logging.getLogger(__name__)

CHANNEL = "web"
MAX_CLIENT_ID = 64


def bot_uttered_payload(message: StoredMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": message.text, "id": message.id, "author": message.author}
    if message.buttons:
        payload["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]}
            for b in message.buttons
        ]
    return payload


def history_item(message: StoredMessage) -> dict[str, Any]:
    item = bot_uttered_payload(message)
    item["direction"] = message.direction
    item["created_at"] = message.created_at.isoformat()
    return item


class WebChannel:
    name = CHANNEL

    def __init__(
        self,
        sio: socketio.AsyncServer,
        signer: ConversationIdSigner,
        store: TranscriptStore,
        max_message_chars: int,
    ) -> None:
        self._sio = sio
        self._signer = signer
        self._store = store
        self._max_chars = max_message_chars
        self._pipeline: MessagePipeline | None = None

    def attach(self, pipeline: MessagePipeline) -> None:
        self._pipeline = pipeline
        self._sio.on("connect", self._on_connect)
        self._sio.on("session_request", self._on_session_request)
        self._sio.on("user_uttered", self._on_user_uttered)
        self._sio.on("history_request", self._on_history_request)

    async def deliver(self, conversation_id: str, messages: list[StoredMessage]) -> None:
        for message in messages:
            await self._sio.emit("bot_uttered", bot_uttered_payload(message), room=conversation_id)

    # -- protocol handlers -------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    async def _on_session_request(self, sid: str, data: Any = None) -> None:
        presented = data.get("session_id") if isinstance(data, dict) else None
        conversation_id = self._signer.verify(presented)
        if conversation_id is None:
            conversation_id, signed = self._signer.new()
        else:
            signed = presented
        await self._sio.save_session(sid, {"conversation_id": conversation_id})
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
        text: str = data["message"]
        if not text.strip():
            notice = {"type": "empty", "text": "Empty message ignored."}
            await self._sio.emit("helpline_notice", notice, to=sid)
            return {"status": "ignored", "reason": notice["text"]}
        if len(text) > self._max_chars:
            reason = f"Message too long: {len(text)} characters (limit {self._max_chars})."
            await self._sio.emit("helpline_notice", {"type": "too_long", "text": reason}, to=sid)
            return {"status": "refused", "reason": reason}
        assert self._pipeline is not None
        result = await self._pipeline.accept(
            Inbound(conversation_id, CHANNEL, text, _client_message_id(data))
        )
        if result.duplicate:
            # Re-sent after a lost acknowledgement: show the stored answer, ask nobody.
            for reply in await self._pipeline.replies_to(result.message.id):
                await self._sio.emit("bot_uttered", bot_uttered_payload(reply), to=sid)
        return {"status": "stored", "message_id": result.message.id, "duplicate": result.duplicate}

    async def _on_history_request(self, sid: str, data: Any = None) -> None:
        conversation_id = await self._conversation_of(sid)
        if conversation_id is None:
            await self._sio.emit("helpline_error", {"error": "no session"}, to=sid)
            return
        messages = await self._store.history(conversation_id)
        await self._sio.emit("history", {"messages": [history_item(m) for m in messages]}, to=sid)


def _client_message_id(data: dict[str, Any]) -> str | None:
    custom = data.get("customData") if isinstance(data.get("customData"), dict) else {}
    value = data.get("message_id") or custom.get("message_id")
    return str(value)[:MAX_CLIENT_ID] if value not in (None, "") else None


def _malformed(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "user_uttered expects an object like {\"message\": \"...\"}"
    if not isinstance(data.get("message"), str):
        return "user_uttered needs a string field 'message'"
    message_id = data.get("message_id")
    if message_id is not None and not isinstance(message_id, (str, int)):
        return "message_id must be a string"
    return None
