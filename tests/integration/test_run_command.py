"""`helpline run`: all three processes start, the URL is printed, a killed process is
restarted while the others keep serving, Ctrl-C stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.local_stack import SupervisedRun, free_port, make_stack, pid_of
from bot.pipeline import APOLOGY, SAVED_NOTICE
from tests.gateway_harness import ChatClient

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@contextmanager
def helpline_run(env: dict[str, str], *args: str) -> Iterator[SupervisedRun]:
    command = SupervisedRun(env, *args)
    try:
        yield command
    finally:
        command.interrupt()


def test_run_starts_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)  # prepares (migrate, index, model) like `run` would
    env = {**stack.env, "HELPLINE_PORT": str(free_port())}
    with helpline_run(env) as run:
        run.wait_for("Helpline is ready")
        url = f"http://127.0.0.1:{env['HELPLINE_PORT']}/"
        assert f"Helpline is ready: {url}" in run.output, run.output[-3000:]
        for prefix in ("rasa ", "actions ", "gateway "):
            assert any(line.startswith(prefix) for line in run.lines), f"no {prefix!r} lines"
        assert httpx.get(url + "healthz", timeout=5).json() == {"database": True, "rasa": True}
        assert "Brightcart" in httpx.get(url, timeout=5).text
        code = run.interrupt()
    assert code == 0
    # Nothing keeps listening once `run` has returned.
    for port in (env["HELPLINE_PORT"], env["HELPLINE_RASA_PORT"], env["HELPLINE_ACTION_PORT"]):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


async def test_killed_rasa_is_restarted_and_the_waiting_customer_is_answered(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    env = {**stack.env, "HELPLINE_PORT": str(free_port())}
    url = f"http://127.0.0.1:{env['HELPLINE_PORT']}"
    with helpline_run(env) as run:
        await asyncio.to_thread(run.wait_for, "Helpline is ready")
        gateway_pid = pid_of(int(env["HELPLINE_PORT"]), "gateway")
        client = ChatClient()
        await client.connect(url)
        await client.say("hello", "before")
        assert (await client.next_of("bot_uttered", timeout=30))["text"] not in (SAVED_NOTICE, APOLOGY)

        os.kill(pid_of(int(env["HELPLINE_RASA_PORT"]), "rasa"), signal.SIGKILL)
        await asyncio.to_thread(run.wait_for, "rasa exited with code -9; restarting it in", 30)
        # Meanwhile the gateway keeps taking messages: stored, and the customer is told so.
        client.events = asyncio.Queue()
        ack = await client.say("how do I cancel my order", "while-away")
        assert ack["status"] == "stored"
        assert (await client.next_of("bot_uttered", timeout=30))["text"] == SAVED_NOTICE
        # Rasa comes back (restarted by `run`) and the saved question is answered.
        answer = await client.next_of("bot_uttered", timeout=240)
        assert "cancel" in answer["text"].lower(), answer
        assert "rasa is back (restart 1)" in run.output
        # The gateway was never restarted: the customer's connection lived through it all.
        assert pid_of(int(env["HELPLINE_PORT"]), "gateway") == gateway_pid
        await client.close()
        assert run.interrupt() == 0
