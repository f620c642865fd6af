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


def malformed_update(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "an update is a JSON object"
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return "update_id must be an integer"
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
        except ValueError:
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
