"""Runs each update through the handlers, in arrival order per chat, and reports failure.

python-telegram-bot hands a handler's exception to error handlers instead of raising it
from ``process_update``. Both webhook and polling need to know, though: an update that
was not stored must not be acknowledged (webhook: answer 500 so Telegram re-delivers;
polling: keep the offset so getUpdates returns it again). The error handler registered
here records the failure and ``process`` raises it to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.channels.telegram.services import update_kind
from bot.coordination.lease import LeaderLease
from bot.ratelimit import ChatFloodGuard
from bot.sequencing import SerialExecutor

logger = logging.getLogger(__name__)


# Failures that go away by themselves (database or network outage): worth receiving the
# update again. Anything else is a bug, which the same update would only hit again.
TRANSIENT_FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class UpdateNotProcessed(Exception):
    """A handler failed on this update."""

    def __init__(self, update_id: int, transient: bool) -> None:
        super().__init__(f"update {update_id} was not processed")
        self.update_id = update_id
        self.transient = transient


class UpdateIntake:
    """``flood`` limits each chat's updates (a refused one is confirmed to Telegram but
    neither stored nor answered; the chat hears ``notify`` once per window). ``leader``
    (replicas): only the replica holding it polls (polling.py); webhook calls go anywhere."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        flood: ChatFloodGuard | None = None,
        notify: Callable[[int, str], None] | None = None,
        leader: LeaderLease | None = None,
    ) -> None:
        self._application = application
        self._flood = flood
        self._notify = notify
        self.leader = leader
        self._per_chat = SerialExecutor()
        self._failures: dict[int, BaseException] = {}
        application.add_error_handler(self._record_failure)

    def submit(self, update: Update) -> asyncio.Future[None]:
        """Queue the update behind earlier ones of its chat; the future fails if it did.

        Synchronous, so the order of calls is the order in which a chat's updates are
        stored (the pipeline then keeps that order for the answers).
        """
        return self._per_chat.submit(_order_key(update), lambda: self._process(update))

    async def process(self, update: Update) -> None:
        await self.submit(update)

    async def _process(self, update: Update) -> None:
        if await self._flooding(update):
            return
        await self._application.process_update(update)
        failure = self._failures.pop(update.update_id, None)
        if failure is not None:
            transient = isinstance(failure, TRANSIENT_FAILURES)
            raise UpdateNotProcessed(update.update_id, transient) from failure

    async def _flooding(self, update: Update) -> bool:
        chat = update.effective_chat
        if self._flood is None or chat is None:
            return False
        if update.effective_message is None and update.callback_query is None:
            return False  # membership changes and the like are not the customer writing
        key = f"telegram:{chat.id}"
        refusal = await self._flood.message_refusal(key)
        if refusal is None:
            return False
        logger.info("update %s refused: its chat sends too fast", update.update_id)
        if self._notify is not None and await self._flood.should_notify(key):
            self._notify(chat.id, refusal)
        return True

    async def _record_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(update, Update) and error is not None:
            self._failures[update.update_id] = error
            logger.error(
                "update %s (%s) not processed: %s",
                update.update_id, update_kind(update), type(error).__name__,
                # SQLAlchemy errors quote the statement's parameters, which hold the
                # customer's text; the type name is enough to tell a database outage.
                exc_info=None if isinstance(error, SQLAlchemyError) else error,
            )
        else:
            logger.error("telegram error outside an update: %s", type(error).__name__)


def _order_key(update: Update) -> str:
    chat = update.effective_chat
    # Updates without a chat need no order among themselves.
    return f"chat:{chat.id}" if chat else f"update:{update.update_id}"
