"""Long polling (development): getUpdates in a loop, confirming only what was stored.

Telegram forgets updates below the ``offset`` of the next getUpdates call, so the offset
moves past an update only after its handler has stored it. If storing fails, the same
updates come back on the next call; those already stored are duplicates by their client
id and are not answered twice. python-telegram-bot's Updater confirms updates as soon as
they are fetched, which is why it is not used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.channels.telegram.handlers import ALLOWED_UPDATES
from bot.channels.telegram.intake import UpdateIntake, UpdateNotProcessed
from bot.channels.telegram.outbox import retry_after_seconds

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
# Shutdown does not wait longer than this to tell Telegram where polling stopped.
CONFIRM_SECONDS = 3.0
# An update a handler bug fails on is skipped after this many tries, so it cannot stop
# the bot for everyone. Transient failures (the database is down) are retried for as
# long as they last: skipping would lose the customer's message.
MAX_ATTEMPTS_PER_UPDATE = 5


class PollingLoop:
    def __init__(
        self,
        bot: Bot,
        intake: UpdateIntake,
        poll_timeout_seconds: int,
        first_backoff_seconds: float = 1.0,
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._timeout = poll_timeout_seconds
        self._first_backoff = first_backoff_seconds
        self._offset: int | None = None
        self._attempts: dict[int, int] = {}

    async def run(self) -> None:
        """Poll; with replicas, only while this replica leads (intake.leader): Telegram
        allows one getUpdates caller per bot, and a second would only see Conflict."""
        leader = getattr(self._intake, "leader", None)
        if leader is None:
            await self._poll()
            return
        # A new leader starts from Telegram's own offset: updates the old one stored but
        # had not confirmed come again and are duplicates by their client id.
        self._offset = None
        await leader.lead(self._poll)

    async def _poll(self) -> None:
        backoff = self._first_backoff
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self._offset, timeout=self._timeout, allowed_updates=ALLOWED_UPDATES
                )
            except InvalidToken:
                logger.error("Telegram rejected the bot token; polling stops")
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except Conflict:
                # Another process polls with this token, or a webhook is set.
                logger.warning("getUpdates conflict; retrying in %.0fs", backoff)
                backoff = await _sleep_backoff(backoff)
                continue
            except TelegramError as error:
                logger.warning("getUpdates failed (%s); retrying in %.0fs", type(error).__name__, backoff)
                backoff = await _sleep_backoff(backoff)
                continue
            if not updates:
                backoff = self._first_backoff
                continue
            if await self._store(updates):
                backoff = self._first_backoff
            else:
                backoff = await _sleep_backoff(backoff)

    async def _store(self, updates: Sequence[Update]) -> bool:
        """Process a batch (chats concurrently, each in order); move the offset past
        the longest prefix that was stored. True if the whole batch was."""
        outcomes = await asyncio.gather(
            *(self._intake.submit(update) for update in updates), return_exceptions=True
        )
        for update, outcome in zip(updates, outcomes):
            if isinstance(outcome, BaseException) and not self._give_up(update.update_id, outcome):
                self._offset = update.update_id
                return False
            self._attempts.pop(update.update_id, None)
            self._offset = update.update_id + 1
        return True

    def _give_up(self, update_id: int, failure: BaseException) -> bool:
        if isinstance(failure, UpdateNotProcessed) and failure.transient:
            return False
        attempts = self._attempts.get(update_id, 0) + 1
        self._attempts[update_id] = attempts
        if attempts < MAX_ATTEMPTS_PER_UPDATE:
            return False
        logger.error("update %s failed %d times; skipped", update_id, attempts)
        return True

    async def confirm_processed(self) -> None:
        """Tell Telegram where we stopped, so a restart does not fetch them again."""
        if self._offset is None:
            return
        try:
            await asyncio.wait_for(
                self._bot.get_updates(offset=self._offset, timeout=0, limit=1), CONFIRM_SECONDS
            )
        except asyncio.TimeoutError:
            logger.info("could not confirm processed updates in time")
        except TelegramError as error:
            logger.info("could not confirm processed updates (%s)", type(error).__name__)


async def _sleep_backoff(current: float) -> float:
    await asyncio.sleep(current)
    return min(current * 2, MAX_BACKOFF_SECONDS)
