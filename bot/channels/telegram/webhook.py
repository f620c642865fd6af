"""The webhook route (production): Telegram POSTs each update here.

Answers, and what Telegram does with them:
- 200 once the update is stored (the answer follows later through ``deliver``), or when
  it needs no storing (a sticker, an update we ignore);
- 403 without the right ``X-Telegram-Bot-Api-Secret-Token``;
- 400 with a reason for a body that is not an update: Telegram does not retry a 4xx;
- 500 when storing failed for a transient reason (database down): Telegram re-delivers,
  and a copy that was stored after all is a duplicate by its client id;
- 503 while the channel is still connecting to Telegram, 404 in polling mode.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from telegram import Bot, Update

from bot.channels.telegram.config import WEBHOOK_PATH, TelegramConfig
from bot.channels.telegram.intake import UpdateIntake, UpdateNotProcessed

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Real updates are a few kilobytes; anything much larger is not from Telegram.
MAX_BODY_BYTES = 1_000_000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The kinds of update that carry a message, and where the channel reads chat and sender.
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


def _malformed_user(user: Any, where: str) -> str | None:
    if not isinstance(user, dict) or not _is_int(user.get("id")):
        return f"{where} must be an object with an integer id"
    return None


def _malformed_message(message: Any, where: str) -> str | None:
    """The fields the channel relies on, with Telegram's types (python-telegram-bot's
    de_json accepts anything, and a string chat id was stored and then sent to)."""
    if not isinstance(message, dict):
        return f"{where} must be an object"
    if not _is_int(message.get("message_id")) or not _is_int(message.get("date")):
        return f"{where} needs integer message_id and date"
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_int(chat.get("id")) or not isinstance(chat.get("type"), str):
        return f"{where}.chat must be an object with an integer id and a string type"
    if "from" in message and (problem := _malformed_user(message["from"], f"{where}.from")):
        return problem
    for field in ("text", "caption"):
        if field in message and not isinstance(message[field], str):
            return f"{where}.{field} must be a string"
    return None


def malformed_update(data: Any) -> str | None:
    problem = _malformed_update(data)
    if problem is None or problem.startswith(("an update", "update_id")):
        return problem
    return f"not a Telegram update: {problem}"


def _malformed_update(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "an update is a JSON object"
    update_id = data.get("update_id")
    if not _is_int(update_id):
        return "update_id must be an integer"
    for key in _MESSAGE_KEYS:
        if key in data and (problem := _malformed_message(data[key], key)):
            return problem
    query = data.get("callback_query")
    if query is not None:
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "callback_query must be an object with a string id"
        if problem := _malformed_user(query.get("from"), "callback_query.from"):
            return problem
        if "data" in query and not isinstance(query["data"], str):
            return "callback_query.data must be a string"
        if "message" in query and (problem := _malformed_message(query["message"], "callback_query.message")):
            return problem
    member = data.get("my_chat_member")
    if member is not None:
        if not isinstance(member, dict):
            return "my_chat_member must be an object"
        chat = member.get("chat")
        if not isinstance(chat, dict) or not _is_int(chat.get("id")):
            return "my_chat_member.chat must be an object with an integer id"
    return None


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def webhook_router(
    config: TelegramConfig, bot: Bot, intake: UpdateIntake, is_ready: Callable[[], bool]
) -> APIRouter:
    router = APIRouter(tags=["telegram"])
    expected_secret = (config.webhook_secret or "").encode()

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if config.mode != "webhook":
            return _refuse(404, "the Telegram channel runs in polling mode")
        presented = request.headers.get(SECRET_HEADER, "").encode()
        # Compared before the body is read, in constant time: no oracle for the secret.
        if not expected_secret or not hmac.compare_digest(presented, expected_secret):
            logger.warning("webhook call with a wrong secret token refused")
            return _refuse(403, "wrong secret token")
        if not is_ready():
            return _refuse(503, "the Telegram channel is starting")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, "body too large for an update")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than any update
            return _refuse(400, "body is not JSON")
        problem = malformed_update(data)
        if problem:
            return _refuse(400, problem)
        try:
            update = Update.de_json(data, bot)
        except Exception as error:  # python-telegram-bot raises whatever the shape causes
            return _refuse(400, f"not a Telegram update ({type(error).__name__})")
        try:
            await intake.process(update)
        except UpdateNotProcessed as failure:
            if failure.transient:
                return _refuse(500, "update not stored; deliver it again")
            # A handler bug: re-delivery would fail the same way and hold up the chat.
        return Response(status_code=200)

    return router
