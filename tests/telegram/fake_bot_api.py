"""A local stand-in for Telegram's Bot API, served over real HTTP on 127.0.0.1.

python-telegram-bot talks to it through ``base_url`` exactly as it would to Telegram:
same paths (``/bot<token>/<method>``), same form-encoded parameters, same
``{"ok": ..., "result" | "error_code", "description", "parameters"}`` answers. It
enforces the limits the channel must respect (4,096 characters per text, 64 bytes of
callback data, one answer per callback query, no getUpdates while a webhook is set), so
a channel that ignores them fails here as it would in production.

Tests script it: queue updates for getUpdates, post updates to the registered webhook
(with its secret, as Telegram does), make the next calls of a method answer 429 with
retry_after, and make a chat's sends fail with "Forbidden: bot was blocked by the user".
Every call is recorded with its parameters, HTTP status and time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
BLOCKED = "Forbidden: bot was blocked by the user"

# A bot's update ids and a chat's message ids only grow, also across fake servers
# (a test may restart the gateway in front of a new one).
_UPDATE_IDS = itertools.count(1)
_MESSAGE_IDS = itertools.count(5000)

_INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
_JSON_PARAMS = {"reply_markup", "allowed_updates", "show_alert", "drop_pending_updates"}


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int
    at: float  # time.monotonic()
    result: Any = None  # what a successful call returned (a sent message, ...)

    @property
    def message_id(self) -> int:
        return int(self.result["message_id"])


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-token_for-the-fake"
    url: str = ""  # set by the test once the server listens
    calls: list[ApiCall] = field(default_factory=list)  # answered calls
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # as they arrive
    webhook: dict[str, Any] | None = None
    blocked_chats: set[int] = field(default_factory=set)
    refused_texts: set[str] = field(default_factory=set)  # sendMessage answers 400 for these
    bot_user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": 777000111, "is_bot": True, "first_name": "Helpline", "username": "helpline_test_bot"
        }
    )
    closing: bool = False
    _pending_updates: list[dict[str, Any]] = field(default_factory=list)
    _floods: dict[str, list[int]] = field(default_factory=dict)
    _messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _answered_queries: set[str] = field(default_factory=set)
    _query_ids: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    # -- scripting -----------------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make getUpdates return this update (until an offset confirms it)."""
        self._pending_updates.append(update)
        return update

    def flood_next(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 with this retry_after."""
        self._floods.setdefault(method, []).extend([retry_after] * times)

    def block(self, chat_id: int) -> None:
        self.blocked_chats.add(chat_id)

    def close(self) -> None:
        """End pending long polls now, so the server can stop without waiting them out."""
        self.closing = True

    # -- updates as Telegram builds them -------------------------------------------------

    def next_update_id(self) -> int:
        return next(_UPDATE_IDS)

    @staticmethod
    def customer(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Customer", "language_code": "en"}

    def private_chat(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "Customer"}

    def _customer_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(_MESSAGE_IDS),
            "date": int(time.time()),
            "chat": self.private_chat(chat_id),
            "from": self.customer(chat_id),
            **content,
        }

    def text_update(self, chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if text.startswith("/") else []
        )
        message = self._customer_message(chat_id, text=text)
        if entities:
            message["entities"] = entities
        return {"update_id": update_id or self.next_update_id(), "message": message}

    def sticker_update(self, chat_id: int) -> dict[str, Any]:
        sticker = {
            "file_id": "CAACAgIAAxkBAAIB", "file_unique_id": "AgADsticker", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        }
        return {"update_id": self.next_update_id(), "message": self._customer_message(chat_id, sticker=sticker)}

    def photo_update(self, chat_id: int, caption: str | None = None) -> dict[str, Any]:
        photo = [{"file_id": "AgACphoto", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        return {"update_id": self.next_update_id(), "message": self._customer_message(chat_id, **content)}

    def edited_update(self, chat_id: int, text: str) -> dict[str, Any]:
        message = self._customer_message(chat_id, text=text, edit_date=int(time.time()))
        return {"update_id": self.next_update_id(), "edited_message": message}

    def channel_post_update(self, channel_id: int, text: str) -> dict[str, Any]:
        post = {
            "message_id": next(_MESSAGE_IDS), "date": int(time.time()),
            "chat": {"id": channel_id, "type": "channel", "title": "News"}, "text": text,
        }
        return {"update_id": self.next_update_id(), "channel_post": post}

    def group_text_update(self, group_id: int, from_id: int, text: str) -> dict[str, Any]:
        message = {
            "message_id": next(_MESSAGE_IDS), "date": int(time.time()),
            "chat": {"id": group_id, "type": "group", "title": "Friends"},
            "from": self.customer(from_id), "text": text,
        }
        return {"update_id": self.next_update_id(), "message": message}

    def press(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """The customer presses a button (``data``) of a message the bot sent."""
        message = self._messages[(chat_id, message_id)]
        query = {
            "id": f"cbq-{next(self._query_ids)}",
            "from": self.customer(chat_id),
            "chat_instance": f"ci-{chat_id}",
            "message": message,
            "data": data,
        }
        return {"update_id": self.next_update_id(), "callback_query": query}

    def membership_update(self, chat_id: int, status: str) -> dict[str, Any]:
        """``kicked`` when the customer blocks the bot, ``member`` when they unblock it."""
        old = "member" if status == "kicked" else "kicked"
        change = {
            "chat": self.private_chat(chat_id), "from": self.customer(chat_id),
            "date": int(time.time()),
            "old_chat_member": {"user": self.bot_user, "status": old, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"user": self.bot_user, "status": status, **({"until_date": 0} if status == "kicked" else {})},
        }
        return {"update_id": self.next_update_id(), "my_chat_member": change}

    # -- Telegram delivering to the webhook ----------------------------------------------

    async def post_to_webhook(
        self, update: Any, *, secret: str | None = None, raw: bytes | None = None
    ) -> httpx.Response:
        """POST as Telegram does: the registered URL, its secret in the header."""
        assert self.webhook is not None, "setWebhook was not called"
        headers = {"Content-Type": "application/json"}
        token = self.webhook.get("secret_token") if secret is None else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        body = raw if raw is not None else json.dumps(update).encode()
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(self.webhook["url"], content=body, headers=headers)

    # -- what the bot did ----------------------------------------------------------------

    def calls_to(self, method: str, status: int | None = 200) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and (status is None or c.status == status)]

    def polled_offsets(self) -> list[int | None]:
        """The offset of every getUpdates request so far, including one still waiting."""
        return [params.get("offset") for method, params in self.requests if method == "getUpdates"]

    def sent(self, chat_id: int) -> list[ApiCall]:
        """Messages that reached the chat (sendMessage answered 200), in order."""
        return [c for c in self.calls_to("sendMessage") if c.params["chat_id"] == chat_id]

    def sent_texts(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.sent(chat_id)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self._messages[(chat_id, message_id)]

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {self.summary()}")
            await asyncio.sleep(0.02)

    def summary(self) -> list[tuple[str, int]]:
        return [(c.method, c.status) for c in self.calls]

    # -- the HTTP side -------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await _params(request)
        self.requests.append((method, params))
        if request.path_params["token"] != self.token:
            return self._answer(method, params, _error(401, "Unauthorized"))
        flood = self._floods.get(method)
        if flood:
            retry_after = flood.pop(0)
            return self._answer(
                method, params,
                _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after),
            )
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._answer(method, params, _error(404, "Not Found"))
        return self._answer(method, params, await handler(params))

    def _answer(self, method: str, params: dict[str, Any], outcome: tuple[int, dict[str, Any]]) -> JSONResponse:
        status, body = outcome
        self.calls.append(ApiCall(method, params, status, time.monotonic(), body.get("result")))
        return JSONResponse(body, status_code=status)

    async def _api_getMe(self, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok(self.bot_user)

    async def _api_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = params
        return _ok(True)

    async def _api_deleteWebhook(self, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = None
        return _ok(True)

    async def _api_getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; "
                               "use deleteWebhook to delete the webhook first")
        offset = params.get("offset")
        if offset is not None:  # confirms every update below it: Telegram forgets them
            self._pending_updates = [u for u in self._pending_updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._pending_updates and time.monotonic() < deadline and not self.closing:
            await asyncio.sleep(0.02)
        limit = int(params.get("limit") or 100)
        return _ok(sorted(self._pending_updates, key=lambda u: u["update_id"])[:limit])

    async def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id, text = params["chat_id"], str(params.get("text", ""))
        if chat_id in self.blocked_chats:
            return _error(403, BLOCKED)
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if text in self.refused_texts:
            return _error(400, "Bad Request: message can't be sent")
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            return _error(400, "Bad Request: message is too long")
        problem = _keyboard_problem(params.get("reply_markup"))
        if problem:
            return _error(400, problem)
        message = {
            "message_id": next(_MESSAGE_IDS), "date": int(time.time()),
            "chat": self.private_chat(chat_id), "from": self.bot_user, "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message["message_id"])] = message
        return _ok(message)

    async def _api_editMessageText(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        message = self._messages.get((params.get("chat_id"), params.get("message_id")))  # type: ignore[arg-type]
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        message["text"] = params["text"]
        _replace_markup(message, params.get("reply_markup"))
        return _ok(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        message = self._messages.get((params.get("chat_id"), params.get("message_id")))  # type: ignore[arg-type]
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        _replace_markup(message, params.get("reply_markup"))
        return _ok(message)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query_id = params["callback_query_id"]
        if query_id in self._answered_queries:
            return _error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._answered_queries.add(query_id)
        return _ok(True)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _replace_markup(message: dict[str, Any], markup: Any) -> None:
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _keyboard_problem(markup: Any) -> str | None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                return "Bad Request: BUTTON_DATA_INVALID"
            if not button.get("text"):
                return "Bad Request: text buttons are unallowed in the inline keyboard"
    return None


async def _params(request: Request) -> dict[str, Any]:
    """Bot API parameters from a query string, JSON body or form (what PTB sends)."""
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        raw.update(await request.json())
    elif request.method == "POST":
        raw.update((await request.form()).items())
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in _INT_PARAMS:
            params[key] = int(value)
        elif isinstance(value, str) and key in _JSON_PARAMS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params
