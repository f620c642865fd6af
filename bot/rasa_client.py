"""HTTP client for the Rasa server's Helpline channel (bot/rasa_channel.py).

With several Rasa servers (``HELPLINE_RASA_URLS``, set by ``helpline run --replicas N``)
each conversation has a home server, picked by a stable hash of its id so its turns
usually hit a warm tracker cache; when that server cannot be reached (refused, reset
before answering) the turn goes to the next server in the list, and a server that failed
is tried last for a few seconds. The servers share the tracker store (PostgreSQL) and the
lock store (Redis), so any of them can continue any conversation. A turn that timed out
is not sent elsewhere: it may still be running, and the customer gets the apology.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

# A server that refused a connection is tried last for this long.
DOWN_SECONDS = 5.0


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) did not answer in time or failed."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        # True when no Rasa server could be reached at all (stopped, restarting): the
        # message can wait for one to come back. False for timeouts and errors.
        self.unreachable = unreachable


@dataclass(frozen=True)
class BotTurn:
    intent: str | None
    confidence: float | None
    messages: list[dict[str, Any]]
    rasa_ms: float | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)


# Failures where the server did not take the turn (or died before answering): safe to
# send the turn to another server.
_FAILOVER_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError)


class RasaClient:
    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self._bases = [url.rstrip("/") for url in urls]
        self._down_until: dict[str, float] = {}
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            transport=transport,
        )

    @property
    def urls(self) -> list[str]:
        return list(self._bases)

    def servers_for(self, conversation_id: str) -> list[str]:
        """The conversation's home server first, then the others; recently failed last."""
        start = zlib.crc32(conversation_id.encode()) % len(self._bases)
        ordered = self._bases[start:] + self._bases[:start]
        now = time.monotonic()
        return sorted(ordered, key=lambda base: self._down_until.get(base, 0.0) > now)

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
        last_error = "no Rasa server"
        for base in self.servers_for(conversation_id):
            try:
                response = await self._http.post(f"{base}/webhooks/helpline/webhook", json=body)
            except _FAILOVER_ERRORS as exc:
                self._down_until[base] = time.monotonic() + DOWN_SECONDS
                last_error = f"unreachable: {type(exc).__name__}"
                if len(self._bases) > 1:
                    logger.warning("Rasa at %s unreachable (%s); trying the next", base, type(exc).__name__)
                continue
            except httpx.TimeoutException as exc:
                raise RasaUnavailable("timeout") from exc
            except httpx.HTTPError as exc:
                raise RasaUnavailable(f"failed: {type(exc).__name__}") from exc
            self._down_until.pop(base, None)
            return _turn_from(response)
        raise RasaUnavailable(last_error, unreachable=True)

    async def is_ready(self) -> bool:
        """At least one Rasa server answers its health check."""
        for base in self._bases:
            try:
                response = await self._http.get(f"{base}/", timeout=2.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return True
        return False

    async def aclose(self) -> None:
        await self._http.aclose()


def _turn_from(response: httpx.Response) -> BotTurn:
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
