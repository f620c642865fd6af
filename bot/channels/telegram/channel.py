"""The Telegram customer channel: what the pipeline and the app lifespan see."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.channels.telegram.config import TelegramConfig
from bot.channels.telegram.directory import CHANNEL, ChatDirectory
from bot.channels.telegram.handlers import ALLOWED_UPDATES
from bot.channels.telegram.intake import UpdateIntake
from bot.channels.telegram.outbox import OutgoingText, TelegramOutbox, retry_after_seconds
from bot.channels.telegram.polling import PollingLoop
from bot.channels.telegram.rendering import telegram_messages
from bot.channels.telegram.webhook import webhook_router
from bot.transcript.store import StoredMessage

logger = logging.getLogger(__name__)

# A reply ready before Telegram is reachable (answers resumed at start-up) waits this
# long for the connection; it stays in the transcript either way.
DELIVERY_WAIT_SECONDS = 60.0
# At shutdown, queued messages get this long to go out (a 429 pause could be longer).
DRAIN_SECONDS = 10.0
MAX_CONNECT_BACKOFF_SECONDS = 60.0
# Why a stored message never reached the chat (the transcript's error column).
NO_CHAT = "no Telegram chat known for the conversation"
NOT_CONNECTED = "Telegram was not reachable"
BLOCKED = "the customer blocked the bot"
REFUSED = "Telegram refused or did not take the message"

MarkUndelivered = Callable[[list[int], str], Awaitable[Any]]


class TelegramChannel:
    """Delivers to Telegram chats; receives through the webhook ``router`` or polling.

    Lifespan: ``await start()`` after the pipeline exists, ``await stop()`` after the
    pipeline has drained (so its last answers are still delivered).
    """

    name = CHANNEL

    def __init__(
        self,
        config: TelegramConfig,
        application: Application,  # type: ignore[type-arg]
        intake: UpdateIntake,
        directory: ChatDirectory,
        outbox: TelegramOutbox,
        mark_undelivered: MarkUndelivered | None = None,
    ) -> None:
        self._config = config
        self._mark_undelivered = mark_undelivered
        self._application = application
        self._intake = intake
        self._directory = directory
        self._outbox = outbox
        self._connected = asyncio.Event()
        self._stopped = False
        self._connect_task: asyncio.Task[None] | None = None
        self._polling: PollingLoop | None = None
        self._polling_task: asyncio.Task[None] | None = None
        self.router: APIRouter = webhook_router(
            config, application.bot, intake, self._connected.is_set
        )

    @property
    def mode(self) -> str:
        return self._config.mode

    @property
    def ready(self) -> bool:
        return self._connected.is_set() and not self._stopped

    async def start(self) -> None:
        """Connect in the background and return at once.

        Telegram being unreachable must not keep the gateway, and with it the web chat,
        from starting; the channel keeps trying and the webhook answers 503 meanwhile.
        """
        self._connect_task = asyncio.create_task(self._connect(), name="telegram-connect")

    async def wait_ready(self, timeout: float) -> bool:
        if self._stopped:
            return False
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self.ready

    async def flush(self) -> None:
        """Wait until everything queued for Telegram has been sent (or given up)."""
        await self._outbox.drain()

    async def stop(self) -> None:
        self._stopped = True
        for task in (self._connect_task, self._polling_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._polling is not None:
            await self._polling.confirm_processed()
        try:
            await asyncio.wait_for(self._outbox.drain(), DRAIN_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("telegram messages still queued at shutdown were dropped")
        # Both are no-ops when not started; the bot's own shutdown also closes the HTTP
        # clients of a connection attempt that was cancelled half-way.
        await self._application.shutdown()
        await self._application.bot.shutdown()
        self._connected.clear()

    async def deliver(self, conversation_id: str, messages: list[StoredMessage]) -> None:
        """Send in order; what did not reach the chat is marked undelivered in the
        transcript, so the review and the agent see the customer never got it."""
        pieces = [(message.id, piece) for message in messages for piece in telegram_messages(message)]
        if not pieces:
            return
        chat_id = await self._directory.chat_for(conversation_id)
        if chat_id is None:
            logger.warning(
                "conversation %s: no Telegram chat known; %d messages not delivered",
                conversation_id, len(messages),
            )
            await self._undelivered(pieces, NO_CHAT)
            return
        if not await self.wait_ready(DELIVERY_WAIT_SECONDS):
            logger.warning(
                "conversation %s: Telegram not connected; %d messages not delivered",
                conversation_id, len(messages),
            )
            await self._undelivered(pieces, NOT_CONNECTED)
            return
        sent = await self._outbox.send(chat_id, [piece for _, piece in pieces])
        if len(sent) < len(pieces):  # the outbox stops at the first piece that failed
            reason = BLOCKED if self._outbox.is_unreachable(chat_id) else REFUSED
            await self._undelivered(pieces[len(sent):], reason)

    async def _undelivered(self, pieces: list[tuple[int, OutgoingText]], reason: str) -> None:
        if self._mark_undelivered is None:
            return
        ids = sorted({message_id for message_id, _ in pieces})
        try:
            await self._mark_undelivered(ids, reason)
        except Exception:  # the log above already says it; delivery must not raise
            logger.exception("could not mark %d messages undelivered", len(ids))

    # -- connecting --------------------------------------------------------------------

    async def _connect(self) -> None:
        bot = self._application.bot
        if not await _until_done("reach Telegram (getMe)", self._application.initialize):
            return
        self._connected.set()
        if self._config.mode == "webhook":
            assert self._config.webhook_url is not None
            url = self._config.webhook_url
            await _until_done(
                "set the webhook",
                lambda: bot.set_webhook(
                    url,
                    secret_token=self._config.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=self._config.webhook_max_connections,
                ),
            )
            logger.info("telegram channel ready: webhook mode")
            return
        # A webhook left set (by an earlier webhook deployment) would make getUpdates fail.
        if not await _until_done("delete the webhook", bot.delete_webhook):
            return
        self._polling = PollingLoop(bot, self._intake, self._config.poll_timeout_seconds)
        self._polling_task = asyncio.create_task(self._polling.run(), name="telegram-polling")
        logger.info("telegram channel ready: polling mode")


async def _until_done(what: str, call: Callable[[], Awaitable[Any]]) -> bool:
    """Retry ``call`` with backoff until it succeeds; False if the token is refused."""
    backoff = 1.0
    while True:
        try:
            await call()
            return True
        except InvalidToken:
            logger.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN); channel off")
            return False
        except RetryAfter as error:
            await asyncio.sleep(retry_after_seconds(error))
        except TelegramError as error:
            logger.warning("could not %s (%s); retrying in %.0fs", what, type(error).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_CONNECT_BACKOFF_SECONDS)
