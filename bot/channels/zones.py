"""The time zone a customer's web page reports, so the times we promise them ("we'll
answer at the latest by ...") read in their own clock.

Our chat page sends its IANA zone (``Intl.DateTimeFormat().resolvedOptions().timeZone``)
with every ``session_request`` as ``timezone``; an embedder of another widget may pass
``customData: {timezone}``. Kept in memory only: a page reports it again on every
(re)connect, and a customer whose zone is unknown reads the business's, named.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_ZONE_NAME = 64


def zone_named(name: Any) -> ZoneInfo | None:
    """A ZoneInfo for a plausible IANA name, else None (never raises on client input)."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_ZONE_NAME or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class CustomerZones:
    """Conversation id -> the zone its page reported; the least recently reported are
    forgotten beyond ``limit`` (bounded memory however many customers connect)."""

    def __init__(self, limit: int = 50_000) -> None:
        self._zones: OrderedDict[str, ZoneInfo] = OrderedDict()
        self._limit = limit

    def remember(self, conversation_id: str, request: Any) -> None:
        if not isinstance(request, dict):
            return
        custom = request.get("customData")
        zone = zone_named(request.get("timezone")) or (
            zone_named(custom.get("timezone")) if isinstance(custom, dict) else None
        )
        if zone is None:
            return
        self._zones[conversation_id] = zone
        self._zones.move_to_end(conversation_id)
        while len(self._zones) > self._limit:
            self._zones.popitem(last=False)

    def zone(self, conversation_id: str) -> ZoneInfo | None:
        return self._zones.get(conversation_id)
