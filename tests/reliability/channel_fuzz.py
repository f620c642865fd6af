"""Hostile input for the two customer channels: socket.io events and Telegram webhook
bodies. Deterministic (fixed seed), bounded in count; shared by
tests/reliability/test_fuzz_channels.py and scripts/reliability (family 4).
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any, Iterator

SEED = 15

# Values of every JSON type and some that stress parsers and renderers.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**63, 2**64 + 1, -(2**70), 1.5, 1e308, -0.0, "", " ", "\n\t",
    "a" * 5000, "<script>alert(1)</script>", "\u202e\u200b\u0000", "😀" * 100, "' OR 1=1 --",
    "%s%n%x", "../../etc/passwd", "\\x00", [], [1, 2], [[[[[]]]]], {}, {"a": {"b": {"c": {}}}},
    {"message": {"message": "x"}}, list(range(1000)),
]


def socketio_payloads(seed: int = SEED) -> Iterator[tuple[str, Any]]:
    """(label, payload) for ``user_uttered``: wrong types, odd fields, big and binary."""
    rng = random.Random(seed)
    for value in ODD_VALUES:
        yield f"payload={type(value).__name__}", value
        yield f"message={type(value).__name__}", {"message": value}
        yield f"message_id={type(value).__name__}", {"message": "hi", "message_id": value}
        yield f"customData={type(value).__name__}", {"message": "hi", "customData": value}
    yield "binary payload", b"\x00\xff\xfe" * 100
    yield "binary message", {"message": b"\x00\xff"}
    yield "message just over the limit", {"message": "x" * 4001}
    yield "many fields", {f"k{i}": i for i in range(2000)} | {"message": "many fields"}
    yield "deep nesting", _nested(200)
    for _ in range(40):
        yield "random mix", {rng.choice(["message", "message_id", "customData", "x"]): rng.choice(ODD_VALUES)
                             for _ in range(rng.randint(0, 4))}


def _nested(depth: int) -> Any:
    value: Any = {"message": "deep"}
    for _ in range(depth):
        value = {"message": value}
    return value


UNKNOWN_EVENTS = ["unknown", "bot_uttered", "session_confirm", "helpline_notice", "x" * 300, "__proto__",
                  "message", "connect_error"]


def valid_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Fuzz"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Fuzz"},
            "text": text,
        },
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from _paths(item, prefix + (key,))


def webhook_bodies(seed: int = SEED) -> Iterator[tuple[str, bytes]]:
    """(label, raw body) for the webhook: every field of an update dropped or given every
    odd value, plus bodies that are not updates at all."""
    rng = random.Random(seed)
    base = valid_update(900_000_001, 424_242, "fuzz")
    for path in list(_paths(base)):
        dropped = copy.deepcopy(base)
        _parent(dropped, path).pop(path[-1])
        yield f"drop {'.'.join(map(str, path))}", json.dumps(dropped).encode()
        for value in rng.sample(ODD_VALUES, 10):
            changed = copy.deepcopy(base)
            _parent(changed, path)[path[-1]] = value
            yield f"{'.'.join(map(str, path))}={type(value).__name__}", json.dumps(changed).encode()
    for raw in (b"", b"{", b"[]", b"null", b"42", b'"update"', b"\xff\xfe\x00", b"{}" * 1000,
                b'{"update_id": NaN}', b'{"update_id": Infinity}', b'{"update_id": 1e999}',
                json.dumps({"update_id": 1, "message": "x" * 2_000_000}).encode(),
                b'{"update_id": 1, "message": ' + b'{"m": ' * 5000 + b"1" + b"}" * 5001):
        yield f"raw {raw[:20]!r}", raw


def _parent(value: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    for key in path[:-1]:
        value = value[key]
    return value
