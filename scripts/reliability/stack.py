"""The real stack under `helpline run` (the supervisor that restarts what dies), on free
ports with state in a temporary folder, and what /proc says about its processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.local_stack import PROJECT, make_stack

OUTPUT = PROJECT / "test-output"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) after the parenthesised command name, which may hold spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def service_of(command: str) -> str | None:
    if " -m bot gateway" in command:
        return "gateway"
    if " -m actions" in command:
        return "actions"
    if "haproxy" in command:
        return "balancer"
    if "rasa" in command and (" run" in command or "rasa_process" in command or "serve" in command):
        return "rasa"
    return None


@dataclass
class SupervisedStack:
    state_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    replicas: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    rasa_port: int = 0

    def prepare(self) -> dict[str, str]:
        stack = make_stack(self.state_dir, self.database_url, self.redis_url)
        self.url = stack.url
        self.rasa_port = stack.settings.rasa_port
        return {**stack.env, **self.extra_env}

    def start(self, env: dict[str, str], timeout: float = 600) -> float:
        OUTPUT.mkdir(exist_ok=True)
        self.log_path = OUTPUT / "reliability-stack.log"
        log = open(self.log_path, "ab")
        offset = self.log_path.stat().st_size
        command = [sys.executable, "-m", "bot", "run", "--skip-prepare"]
        if self.replicas:
            command += ["--replicas", str(self.replicas)]
        started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError("helpline run exited; see test-output/reliability-stack.log")
            # The supervisor prints this once every service answered its health check.
            with self.log_path.open("rb") as handle:
                handle.seek(offset)
                if b"Helpline is ready" in handle.read():
                    return time.monotonic() - started
            time.sleep(1)
        raise RuntimeError("stack not ready in time; see test-output/reliability-stack.log")

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def services(self) -> dict[int, str]:
        """pid -> service for the supervisor's direct children (and HAProxy)."""
        assert self.process is not None
        found = {}
        for pid in _children(self.process.pid):
            name = service_of(cmdline(pid))
            if name:
                found[pid] = name
        return found

    def memory(self) -> dict[str, float]:
        """RSS in MB per service, each with its own descendants (Rasa's workers)."""
        assert self.process is not None
        out: dict[str, float] = {"supervisor": rss_mb(self.process.pid)}
        counts: dict[str, int] = {}
        for pid, name in self.services().items():
            counts[name] = counts.get(name, 0) + 1
            key = name if counts[name] == 1 else f"{name}-{counts[name]}"
            out[key] = rss_mb(pid) + sum(rss_mb(child) for child in descendants(pid))
        return out

    def kill9(self, service: str) -> int:
        for pid, name in self.services().items():
            if name == service:
                os.kill(pid, signal.SIGKILL)
                return pid
        raise RuntimeError(f"no {service} process under the supervisor")

    def wait_service(self, service: str, old_pid: int, timeout: float = 300) -> float | None:
        """Seconds until a new, healthy ``service`` process runs (None: never)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            pids = [pid for pid, name in self.services().items() if name == service and pid != old_pid]
            if pids and self.healthy():
                return time.monotonic() - started
            time.sleep(0.5)
        return None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
