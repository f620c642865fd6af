"""HTTP client for the Rasa server's Helpline channel (bot/rasa_channel.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) did not answer in time or failed."""


@dataclass(frozen=True)
class BotTurn:
    intent: str | None
    confidence: float | None
    messages: list[dict[str, Any]]
    rasa_ms: float | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)


class RasaClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/webhooks/helpline/webhook"
        self._health_url = f"{base_url.rstrip('/')}/"
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            transport=transport,
        )

    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        message_id: str,
        channel: str,
        metadata: dict[str, Any] | None = None,
    ) -> BotTurn:
        body = {
            "sender": conversation_id,
            "message": text,
            "message_id": message_id,
            "input_channel": channel,
            "metadata": metadata or {},
        }
        try:
            response = await self._http.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            raise RasaUnavailable("timeout") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"status {response.status_code}")
        try:
            data = response.json()
            intent = data.get("intent") or {}
            messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
        except (ValueError, AttributeError) as exc:
            raise RasaUnavailable("malformed response") from exc
        return BotTurn(
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            messages=messages,
            rasa_ms=data.get("rasa_ms"),
            intent_ranking=data.get("intent_ranking") or [],
        )

    async def is_ready(self) -> bool:
        try:
            response = await self._http.get(self._health_url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()
