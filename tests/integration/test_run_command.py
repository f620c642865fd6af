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


async def test_supervisor_restarts_with_back_off_and_resets_after_a_good_run(tmp_path: Path) -> None:
    """The supervisor alone, on two small HTTP servers: a killed one comes back after the
    back-off, the other is never touched; delays double and reset after a long run."""
    import sys

    from bot.supervisor import RestartPolicy, ServiceSpec, Supervisor

    policy = RestartPolicy(first_delay=0.2, max_delay=0.8, reset_after=60)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.2, 0.4, 0.8, 0.8, 0.8]
    ports = {"rasa": free_port(), "gateway": free_port()}
    specs = [
        ServiceSpec(name, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                    f"http://127.0.0.1:{port}/", cwd=str(tmp_path))
        for name, port in ports.items()
    ]
    supervisor = Supervisor(specs, "test", policy)
    running = asyncio.create_task(supervisor.run())
    async with httpx.AsyncClient() as http:
        async def serving(name: str) -> bool:
            try:
                return (await http.get(f"http://127.0.0.1:{ports[name]}/", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False

        for _ in range(100):
            if await serving("rasa") and await serving("gateway"):
                break
            await asyncio.sleep(0.1)
        gateway = supervisor._processes["gateway"].pid
        for round_ in (1, 2):
            os.kill(supervisor._processes["rasa"].pid, signal.SIGKILL)
            await asyncio.sleep(0.1)
            assert await serving("gateway")  # the other keeps serving
            for _ in range(100):
                if supervisor.restarts["rasa"] == round_ and await serving("rasa"):
                    break
                await asyncio.sleep(0.1)
            assert supervisor.restarts["rasa"] == round_ and await serving("rasa")
        assert supervisor._processes["gateway"].pid == gateway and supervisor.restarts["gateway"] == 0
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: everything stops, exit code 0
    assert await asyncio.wait_for(running, 30) == 0
    assert all(p.returncode is not None for p in supervisor._processes.values())
