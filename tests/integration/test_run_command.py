"""`helpline run`: all three processes start, the URL is printed, Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.local_stack import PROJECT, free_port, make_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_run_starts_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)  # prepares (migrate, index, model) like `run` would
    env = {**stack.env, "HELPLINE_PORT": str(free_port())}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--skip-prepare"], cwd=PROJECT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 300
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Helpline is ready" in line:
                break
        output = "".join(lines)
        url = f"http://127.0.0.1:{env['HELPLINE_PORT']}/"
        assert f"Helpline is ready: {url}" in output, output[-3000:]
        for prefix in ("rasa ", "actions ", "gateway "):
            assert any(line.startswith(prefix) for line in lines), f"no {prefix!r} lines"
        assert httpx.get(url + "healthz", timeout=5).json() == {"database": True, "rasa": True}
        assert "Brightcart" in httpx.get(url, timeout=5).text
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    assert code == 0
    # Nothing keeps listening once `run` has returned.
    for port in (env["HELPLINE_PORT"], env["HELPLINE_RASA_PORT"], env["HELPLINE_ACTION_PORT"]):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
