import asyncio
import random

import pytest

from bot.sequencing import SerialExecutor


async def test_jobs_of_one_key_run_in_submission_order() -> None:
    executor = SerialExecutor()
    finished: list[int] = []

    def job(n: int):
        async def run() -> int:
            await asyncio.sleep(random.uniform(0, 0.01))  # later jobs may be quicker
            finished.append(n)
            return n

        return run

    futures = [executor.submit("c1", job(n)) for n in range(20)]
    assert await asyncio.gather(*futures) == list(range(20))
    assert finished == list(range(20))
    assert executor.busy_keys == 0  # idle keys leave nothing behind


async def test_different_keys_run_concurrently() -> None:
    executor = SerialExecutor()
    started = asyncio.Event()
    release = asyncio.Event()

    async def blocker() -> None:
        started.set()
        await release.wait()

    async def quick() -> str:
        return "done"

    blocked = executor.submit("a", blocker)
    await started.wait()
    assert await asyncio.wait_for(executor.submit("b", quick), 1) == "done"
    release.set()
    await blocked


async def test_a_failing_job_does_not_stop_the_queue() -> None:
    executor = SerialExecutor()

    async def boom() -> None:
        raise RuntimeError("boom")

    async def fine() -> int:
        return 1

    failing = executor.submit("k", boom)
    following = executor.submit("k", fine)
    with pytest.raises(RuntimeError):
        await failing
    assert await following == 1


async def test_local_turns_answer_stored_messages_in_order_between_other_jobs() -> None:
    from datetime import datetime, timezone

    from bot.coordination.turns import LocalTurns
    from bot.transcript.store import StoredMessage

    done: list[str] = []

    async def answer(message: StoredMessage) -> None:
        await asyncio.sleep(random.uniform(0, 0.01))
        done.append(message.text)

    async def backlog(_: str) -> list[StoredMessage]:
        return []

    turns = LocalTurns()
    turns.bind(answer, backlog)

    def stored(n: int) -> StoredMessage:
        return StoredMessage(id=n, conversation_id="c", channel="web", direction="in", author="customer",
                             text=f"m{n}", status="received", created_at=datetime.now(timezone.utc))

    async def hand_back() -> None:
        done.append("hand-back")

    turns.message_stored(stored(1))
    turns.submit("c", hand_back)
    turns.message_stored(stored(2))
    await turns.drain_all()
    assert done == ["m1", "hand-back", "m2"]
