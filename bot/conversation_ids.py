"""Server-issued, signed conversation ids.

A web client keeps its id across reloads, but must not be able to join somebody else's
conversation by guessing or editing one: the id carries an HMAC only the server can make.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid

_RAW_ID = re.compile(r"^[0-9a-f]{32}$")


class ConversationIdSigner:
    def __init__(self, key: str) -> None:
        self._key = hashlib.sha256(("conversation-id:" + key).encode()).digest()

    def _signature(self, raw_id: str) -> str:
        digest = hmac.new(self._key, raw_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")

    def new(self) -> tuple[str, str]:
        """A fresh (raw id, signed id) pair."""
        raw_id = uuid.uuid4().hex
        return raw_id, self.sign(raw_id)

    def sign(self, raw_id: str) -> str:
        return f"{raw_id}.{self._signature(raw_id)}"

    def verify(self, signed_id: object) -> str | None:
        """The raw id if ``signed_id`` was issued by us, else None."""
        if not isinstance(signed_id, str) or signed_id.count(".") != 1:
            return None
        raw_id, signature = signed_id.split(".")
        if not _RAW_ID.match(raw_id):
            return None
        if not hmac.compare_digest(signature, self._signature(raw_id)):
            return None
        return raw_id
