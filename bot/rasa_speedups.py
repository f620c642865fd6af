"""Fixes for Rasa 3.6 hot spots, applied inside the Rasa process.

Runs in the Rasa environment (imports only rasa, its dependencies and the standard
library) and is applied once when Rasa loads our input channel (bot/rasa_channel.py).
Each fix keeps Rasa's behaviour and only removes repeated work; docs/performance.md
has the profiles behind them.

1. ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every
   custom-action response. That re-checks the (constant) schema against the JSON-Schema
   meta-schema and builds a new validator each time: 38% of Rasa's CPU under load in
   our profile. We build the validator once and validate with it the same way
   (``best_match`` of its errors, same exception and message).

2. Rasa's SQL tracker store on SQLite (the embedded default) commits every turn in
   rollback-journal mode with full fsync: a third of Rasa's CPU time under load. We
   switch SQLite connections of the Rasa process to WAL with ``synchronous=NORMAL``,
   which survives a crashed process (only an OS crash or power loss can lose the
   last turns, and the gateway's own log still has every message).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

logger = logging.getLogger(__name__)

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _cache_action_response_validator()
    _sqlite_wal_for_tracker_store()
    _applied = True


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator: Optional[Any] = None

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        nonlocal validator
        if validator is None:
            schema = self.action_response_format_spec()
            cls = validator_for(schema)
            cls.check_schema(schema)
            validator = cls(schema)
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    # The schema is a static method's constant, so one validator serves every action.
    assert isinstance(ValidationError, type)
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    logger.debug("Rasa speed-up applied: cached action response validator")


def _sqlite_wal_for_tracker_store() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    event.listen(Engine, "connect", on_connect)
