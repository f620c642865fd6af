"""A short soak and a kill -9 of the gateway under load (the suite's slice of families 1
and 2; the long soak and the full fault table are scripts/reliability).

Both run the real gateway (uvicorn, socket.io, pipeline, SQLite) against the scripted
Rasa of tests/gateway_harness.py, which answers "echo: <text>": every answer can be
matched to its question from the client and from the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.local_stack import PROJECT, free_port
from tests.gateway_harness import ScriptedRasa, running_gateway, serve
from tests.reliability.limits import no_chat_limits, no_chat_limits_env
from tests.reliability.load import audit, client_order_ok, run_customers

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def text_for(customer: int, message: int) -> str:
    return f"customer {customer} message {message}"


async def test_short_soak_every_message_stored_once_answered_once_in_order(
    tmp_path: Path, database_url: str
) -> None:
    async with running_gateway(tmp_path, database_url, extra_settings=no_chat_limits()) as gateway:
        logs = await run_customers(gateway.url, customers=20, messages=10, text_for=text_for, answer_timeout=30)
    for log in logs:
        assert len(log.sent) == 10 and not log.refused and not log.unanswered, log
        assert client_order_ok(log), log
    result = audit(database_url, logs)
    assert result.stored == 200
    assert not result.missing and not result.not_answered
    assert result.duplicates_stored == 0 and result.answered_twice == 0 and result.out_of_order == 0


class GatewayProcess:
    """``python -m bot gateway`` as its own process, so it can be killed for real."""

    def __init__(self, tmp_path: Path, database_url: str, rasa_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gateway.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "TELEGRAM_"))},
            "HELPLINE_HOME": str(PROJECT),
            "HELPLINE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "HELPLINE_SECRET_KEY": "kill-test-secret",
            "HELPLINE_RASA_URL": rasa_url,
            "HELPLINE_RASA_TIMEOUT_SECONDS": "5",
            "HELPLINE_PORT": str(self.port),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **no_chat_limits_env(),
        }
        self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "gateway"], cwd=PROJECT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()[-2000:]
                try:
                    if (await http.get(self.url + "/healthz", timeout=2)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("gateway did not start: " + self.log.read_text()[-2000:])

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def test_kill_9_of_the_gateway_under_load_loses_nothing_and_answers_once(
    tmp_path: Path, database_url: str
) -> None:
    rasa = ScriptedRasa()
    rasa_port = free_port()
    async with serve(rasa.app(), rasa_port):
        gateway = GatewayProcess(tmp_path, database_url, f"http://127.0.0.1:{rasa_port}")
        await gateway.start()
        try:
            load = asyncio.create_task(run_customers(
                gateway.url, customers=10, messages=12, text_for=text_for, answer_timeout=20, pause=0.05,
            ))
            while len(rasa.calls) < 40:
                await asyncio.sleep(0.02)
            killed_at = time.monotonic()
            gateway.kill9()  # mid-load: messages in flight between stored and answered
            await asyncio.sleep(1.0)
            await gateway.start()
            restarted_at = time.monotonic()
            logs = await asyncio.wait_for(load, 180)
        finally:
            gateway.stop()
    assert sum(log.reconnects for log in logs) > 0, "the kill did not hit the load"
    for log in logs:
        assert len(log.sent) == 12 and not log.refused, log
    result = audit(database_url, logs)
    # Nothing acknowledged is lost, nothing is stored or answered twice, every message
    # is answered (start-up answers what the killed process had stored) and in order.
    assert result.stored == 120 and not result.missing
    assert result.duplicates_stored == 0 and result.answered_twice == 0
    assert not result.not_answered, result.not_answered
    assert result.out_of_order == 0
    # How long customers waited across the restart: bounded.
    waits = [answered - sent for log in logs for sent, answered in log.gap_answers if sent <= restarted_at]
    assert waits and max(waits) < 60, (killed_at, max(waits))
