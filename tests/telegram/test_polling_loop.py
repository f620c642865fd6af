"""The polling loop's offset rules, with a scripted intake in place of the handlers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import OperationalError
from telegram import Bot, Update

from bot.channels.telegram.intake import UpdateNotProcessed
from bot.channels.telegram.polling import MAX_ATTEMPTS_PER_UPDATE, PollingLoop
from bot.local_stack import free_port
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import serving


class ScriptedIntake:
    """Fails the updates named in ``failing`` (as a bug, or as a database outage)."""

    def __init__(self, failing: set[int], transient: bool) -> None:
        self.failing = failing
        self.transient = transient
        self.attempts: Counter[int] = Counter()

    def submit(self, update: Update) -> asyncio.Future[None]:
        self.attempts[update.update_id] += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if update.update_id in self.failing:
            cause = OperationalError("INSERT", {}, ConnectionError()) if self.transient else KeyError("bug")
            error = UpdateNotProcessed(update.update_id, self.transient)
            error.__cause__ = cause
            future.set_exception(error)
        else:
            future.set_result(None)
        return future


@asynccontextmanager
async def polling(api: FakeBotApi, intake: ScriptedIntake) -> AsyncIterator[None]:
    port = free_port()
    api.url = f"http://127.0.0.1:{port}"
    async with serving({port: api.app()}, before_stop=api.close):
        async with Bot(api.token, base_url=f"{api.url}/bot") as bot:
            loop = PollingLoop(bot, intake, poll_timeout_seconds=1, first_backoff_seconds=0.01)
            task = asyncio.create_task(loop.run())
            try:
                yield
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def test_an_update_a_bug_fails_on_is_skipped_after_a_few_tries() -> None:
    api = FakeBotApi()
    poison, fine = api.queue_update(api.text_update(1, "poison")), api.queue_update(api.text_update(2, "fine"))
    intake = ScriptedIntake({poison["update_id"]}, transient=False)
    async with polling(api, intake):
        await api.wait_for(lambda: fine["update_id"] + 1 in api.polled_offsets(), what="the offset past both")
    assert intake.attempts[poison["update_id"]] == MAX_ATTEMPTS_PER_UPDATE


async def test_a_database_outage_never_skips_an_update() -> None:
    api = FakeBotApi()
    update = api.queue_update(api.text_update(1, "keep me"))
    intake = ScriptedIntake({update["update_id"]}, transient=True)
    async with polling(api, intake):
        await api.wait_for(lambda: intake.attempts[update["update_id"]] > MAX_ATTEMPTS_PER_UPDATE + 2, what="retries")
        assert set(api.polled_offsets()) <= {None, update["update_id"]}
        intake.failing.clear()  # the database is back
        await api.wait_for(lambda: update["update_id"] + 1 in api.polled_offsets(), what="the confirming offset")
