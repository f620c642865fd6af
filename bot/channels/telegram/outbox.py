"""Every call that writes to a Telegram chat: in order per chat, paced, retried.

Failures are handled here and never raised, because a customer who blocked the bot or
a flood-control pause must not break the conversation queue that is delivering:
- 429 (RetryAfter): wait the time Telegram names, then retry the same call; the chat's
  later messages wait behind it, so order holds.
- 403 (Forbidden: blocked, deactivated, kicked): remember the chat as unreachable and
  drop what is queued for it until the customer writes again.
- 400 (BadRequest): the call itself is wrong; retrying would not help.
- network errors: a few retries with backoff. A send that timed out may have arrived,
  so in rare cases a customer sees a message twice rather than not at all.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram.throttle import SendThrottle
from bot.sequencing import SerialExecutor

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5
MAX_NETWORK_BACKOFF_SECONDS = 8.0


@dataclass(frozen=True)
class OutgoingText:
    """One Telegram message: plain text (no parse_mode, so nothing to escape)."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 deprecates the int form in favour of timedelta; accept either.
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramOutbox:
    def __init__(self, bot: Bot, throttle: SendThrottle, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._bot = bot
        self._throttle = throttle
        self._max_attempts = max_attempts
        self._chat_order = SerialExecutor()
        self._unreachable: set[int] = set()
        self._pending: set[asyncio.Future[Any]] = set()

    # -- reachability ------------------------------------------------------------------

    def is_unreachable(self, chat_id: int) -> bool:
        return chat_id in self._unreachable

    def mark_unreachable(self, chat_id: int) -> None:
        self._unreachable.add(chat_id)

    def mark_reachable(self, chat_id: int) -> None:
        """The customer wrote (or unblocked us): sending works again."""
        self._unreachable.discard(chat_id)

    # -- sending -----------------------------------------------------------------------

    async def send(self, chat_id: int, messages: Sequence[OutgoingText]) -> list[Message]:
        """Send in order behind what is already queued for the chat; returns what arrived.

        The messages go out as one job, so an agent's message cannot land between the
        pieces of a split answer.
        """
        return await self._chat_order.submit(str(chat_id), lambda: self._send_all(chat_id, messages))

    def send_soon(self, chat_id: int, messages: Sequence[OutgoingText]) -> None:
        """Queue without waiting (notices sent while handling an update)."""
        self._track(self._chat_order.submit(str(chat_id), lambda: self._send_all(chat_id, messages)))

    def clear_keyboard_soon(self, chat_id: int, message_id: int, text_after: str | None) -> None:
        """Take the keyboard off a message whose button was pressed, before the reply goes.

        With ``text_after`` the message text is replaced (to show the choice); without,
        only the keyboard is removed.
        """

        async def edit() -> Any:
            if text_after is not None:
                return await self._bot.edit_message_text(
                    text_after, chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            return await self._bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )

        job = lambda: self._call(chat_id, "keyboard edit", edit, counts_for_chat=False)  # noqa: E731
        self._track(self._chat_order.submit(str(chat_id), job))

    def answer_callback_soon(self, chat_id: int, query_id: str, notice: str | None = None) -> None:
        """Stop the button's spinner in the customer's app; not queued behind messages."""

        async def answer() -> Any:
            return await self._bot.answer_callback_query(query_id, text=notice)

        self._track(
            asyncio.ensure_future(
                self._call(chat_id, "callback answer", answer, counts_for_chat=False)
            )
        )

    async def drain(self) -> None:
        """Wait for everything queued (at shutdown)."""
        await self._chat_order.drain_all()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    # -- internals ---------------------------------------------------------------------

    def _track(self, future: asyncio.Future[Any]) -> None:
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def _send_all(self, chat_id: int, messages: Sequence[OutgoingText]) -> list[Message]:
        sent: list[Message] = []
        for message in messages:

            async def send_one(message: OutgoingText = message) -> Message:
                return await self._bot.send_message(
                    chat_id, message.text, reply_markup=message.keyboard
                )

            result = await self._call(chat_id, "message", send_one)
            if result is None:
                break  # the rest would fail the same way or arrive out of order
            sent.append(result)
        return sent

    async def _call(
        self,
        chat_id: int,
        kind: str,
        call: Callable[[], Awaitable[T]],
        *,
        counts_for_chat: bool = True,
    ) -> T | None:
        for attempt in range(1, self._max_attempts + 1):
            if chat_id in self._unreachable:
                logger.info("%s to chat %s dropped: the chat blocked the bot", kind, chat_id)
                return None
            await self._throttle.wait_turn(chat_id, counts_for_chat=counts_for_chat)
            try:
                return await call()
            except RetryAfter as error:
                delay = retry_after_seconds(error)
                logger.warning(
                    "telegram flood control: %s to chat %s waits %.1fs (attempt %d of %d)",
                    kind, chat_id, delay, attempt, self._max_attempts,
                )
                if counts_for_chat:
                    self._throttle.hold_chat(chat_id, delay)
                else:
                    await asyncio.sleep(delay)
            except Forbidden:
                self._unreachable.add(chat_id)
                logger.info("chat %s blocked the bot or is gone; not sending to it", chat_id)
                return None
            except BadRequest as error:
                # Telegram's reason names the problem, never the message text.
                logger.warning("telegram refused %s to chat %s: %s", kind, chat_id, error.message)
                return None
            except NetworkError as error:
                delay = min(2.0 ** (attempt - 1), MAX_NETWORK_BACKOFF_SECONDS)
                logger.warning(
                    "%s to chat %s failed (%s); retrying in %.0fs", kind, chat_id,
                    type(error).__name__, delay,
                )
                await asyncio.sleep(delay)
            except TelegramError as error:
                logger.error("%s to chat %s failed: %s", kind, chat_id, type(error).__name__)
                return None
        logger.error("gave up %s to chat %s after %d attempts", kind, chat_id, self._max_attempts)
        return None
