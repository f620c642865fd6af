"""Rasa input channel through which the Helpline gateway talks to Rasa.

This module runs inside the *Rasa* environment (Python 3.10, rasa 3.6), so it imports
nothing but rasa, sanic (Rasa's web server) and the standard library. It is loaded by
Rasa through ``credentials.yml`` (``bot.rasa_channel.HelplineInput``).

Why not Rasa's REST channel: the REST collector keeps only text/buttons/custom of each
bot message, dropping the metadata an action attaches (the FAQ trail), and it reports
nothing about what NLU understood. This channel parses the message first and hands the
parse result to the processor (``UserMessage.parse_data``), so NLU runs exactly once and
the gateway receives the intent, its confidence and every bot message whole.
It also requires a shared token, so only the gateway may speak to Rasa.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response

from bot import rasa_speedups
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

CHANNEL_NAME = "helpline"
MAX_TEXT_LENGTH = 4000


class WholeMessageCollector(CollectingOutputChannel):
    """Collects bot messages exactly as the dialogue produced them (metadata included)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        whole = {key: value for key, value in message.items() if value not in (None, [], {})}
        whole["recipient_id"] = recipient_id
        self.messages.append(whole)


class HelplineInput(InputChannel):
    """``POST /webhooks/helpline/webhook`` with ``{sender, message, message_id, metadata}``."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "HelplineInput":
        token = (credentials or {}).get("token") or ""
        return cls(token=str(token))

    def __init__(self, token: Text) -> None:
        self.token = token
        rasa_speedups.apply()

    def _authorised(self, request: Request) -> bool:
        if not self.token:
            # An empty token would let anyone on the network impersonate the gateway.
            return False
        presented = request.headers.get("authorization", "")
        return hmac.compare_digest(presented.encode(), f"Bearer {self.token}".encode())

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("helpline_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else None
            error = _validate(body)
            if error:
                return response.json({"error": error}, status=400)
            assert body is not None
            started = time.perf_counter()
            agent = request.app.ctx.agent
            text: str = body["message"]
            parse_data = await agent.parse_message(text)
            collector = WholeMessageCollector()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    body["sender"],
                    parse_data=parse_data,
                    input_channel=body.get("input_channel") or CHANNEL_NAME,
                    message_id=body.get("message_id"),
                    metadata=body.get("metadata") or {},
                )
            )
            intent = parse_data.get("intent") or {}
            return response.json(
                {
                    "intent": {
                        "name": intent.get("name"),
                        "confidence": intent.get("confidence"),
                    },
                    "intent_ranking": (parse_data.get("intent_ranking") or [])[:3],
                    "entities": parse_data.get("entities") or [],
                    "messages": collector.messages,
                    "rasa_ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )

        return webhook


def _validate(body: Optional[Dict[Text, Any]]) -> Optional[Text]:
    if body is None:
        return "body must be a JSON object"
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender:
        return "sender must be a non-empty string"
    if not isinstance(text, str) or not text.strip():
        return "message must be a non-empty string"
    if len(text) > MAX_TEXT_LENGTH:
        return f"message longer than {MAX_TEXT_LENGTH} characters"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "metadata must be an object"
    return None


__all__: List[str] = ["HelplineInput", "WholeMessageCollector"]
