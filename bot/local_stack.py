"""Start the real Helpline processes (Rasa, action server, gateway) one by one, or all
of them through `helpline run` (``SupervisedRun``, with or without ``--replicas``).

Used by the integration tests and the benchmark, which need to stop and restart single
services; `helpline run` uses bot/supervisor.py.

The same service definitions as `helpline run` (bot.cli.service_specs), on free ports,
with their state in a temporary folder; logs go to test-output/ for post-mortems.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.cli import service_specs
from bot.settings import Settings
from bot.supervisor import ServiceSpec

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int, attempts: int = 200) -> int:
    """A first port such that it and the count - 1 after it are free (for --replicas)."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20000, 60000 - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no block of {count} free ports found")


OUTPUT = PROJECT / "test-output"


class SupervisedRun:
    """`helpline run --skip-prepare [args]` as a child process, its output collected."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--skip-prepare", *args], cwd=PROJECT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 300.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} not seen; output ends:\n{self.output[-4000:]}")
            time.sleep(0.2)

    def interrupt(self, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def pid_of(port: int, role: str) -> int:
    """The pid of `run`'s child serving this port: rasa, actions or gateway."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if role == "rasa" and b"run" in argv and b"--port" in argv and str(port).encode() in argv:
            return int(entry.name)
        variable = {"actions": "HELPLINE_ACTION_PORT", "gateway": "HELPLINE_PORT"}.get(role)
        if variable and role.encode() in argv and f"{variable}={port}".encode() in environ:
            return int(entry.name)
    raise LookupError(f"no {role} process for port {port}")


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    specs: dict[str, ServiceSpec]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def start(self, name: str, timeout: float = 240.0) -> None:
        spec = self.specs[name]
        OUTPUT.mkdir(exist_ok=True)
        log = open(OUTPUT / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            spec.command, cwd=spec.cwd, env={**self.env, **spec.env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited early; see test-output/{name}.log")
            try:
                if httpx.get(spec.health_url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} not healthy after {timeout}s; see test-output/{name}.log")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def make_stack(
    state_dir: Path, database_url: str | None = None, redis_url: str | None = None
) -> Stack:
    env = {
        **os.environ,
        "HELPLINE_HOME": str(PROJECT),
        "HELPLINE_VAR_DIR": str(state_dir),
        "DATABASE_URL": database_url or f"sqlite:///{state_dir / 'helpline.db'}",
        # The FAQ index is cached across runs: rebuilt only when the FAQ or model changes.
        "HELPLINE_KB_INDEX_DIR": str(PROJECT / ".cache" / "test-kb"),
        "HELPLINE_SECRET_KEY": "integration-test-secret",
        "HELPLINE_RASA_PORT": str(free_port()),
        "HELPLINE_ACTION_PORT": str(free_port()),
        "HELPLINE_PORT": str(free_port()),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    for stale in ("HELPLINE_RASA_URL", "HELPLINE_ACTION_SERVER_URL", "REDIS_URL"):
        env.pop(stale, None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    settings = Settings(
        home=PROJECT,
        state_dir=state_dir,
        database_url=env["DATABASE_URL"],
        kb_index_dir=Path(env["HELPLINE_KB_INDEX_DIR"]),
        secret_key=env["HELPLINE_SECRET_KEY"],
        rasa_port=int(env["HELPLINE_RASA_PORT"]),
        action_port=int(env["HELPLINE_ACTION_PORT"]),
        port=int(env["HELPLINE_PORT"]),
        redis_url=redis_url,
    )
    # Migrate, build the FAQ index, train Rasa if its data changed: what `run` does first.
    subprocess.run(
        [sys.executable, "-m", "bot", "prepare"], cwd=PROJECT, env=env, check=True
    )
    return Stack(settings, env, {spec.name: spec for spec in service_specs(settings)})
