"""Runs Helpline's processes together (``helpline run``) and keeps them running.

Their output is interleaved line by line with a prefix; when all of them answer their
health checks the chat URL is printed. Once ready, a process that dies is started again
after a back-off (1 s, 2 s, 4 s ... capped at 30 s; back to 1 s once it has stayed up
for a minute) while the others keep serving: the gateway keeps storing customers'
messages while Rasa is away and answers them when it is back. A process that dies
before the stack was ready the first time stops everything (a broken configuration
should not loop). Ctrl-C (or SIGTERM) stops all of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger(__name__)

COLOURS = {"rasa": "35", "actions": "36", "gateway": "32", "balancer": "33"}
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential back-off between restarts of one process."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    # A process that stayed up this long was healthy: its next crash starts from first_delay.
    reset_after: float = 60.0

    def delay(self, consecutive_failures: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, consecutive_failures - 1))


@dataclass
class ServiceSpec:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


class Supervisor:
    def __init__(
        self, services: list[ServiceSpec], ready_message: str, policy: RestartPolicy | None = None
    ) -> None:
        self._services = services
        self._ready_message = ready_message
        self._policy = policy or RestartPolicy()
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._pumps: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._ready = False
        self.restarts: dict[str, int] = {spec.name: 0 for spec in services}

    def _prefix(self, name: str) -> str:
        width = max(len(s.name) for s in self._services)
        label = f"{name:<{width}} |"
        colour = COLOURS.get(name.split("-")[0], "37")
        return f"\x1b[{colour}m{label}\x1b[0m" if sys.stdout.isatty() else label

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        prefix = self._prefix(name)
        while line := await stream.readline():
            sys.stdout.write(f"{prefix} {line.decode(errors='replace').rstrip()}\n")
            sys.stdout.flush()

    async def _start(self, spec: ServiceSpec) -> None:
        process = await asyncio.create_subprocess_exec(
            *spec.command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **spec.env},
            cwd=spec.cwd,
            start_new_session=True,  # our Ctrl-C handling decides when children stop
        )
        self._processes[spec.name] = process
        assert process.stdout is not None
        self._pumps.append(asyncio.create_task(self._pump(spec.name, process.stdout)))

    async def _wait_healthy(self, spec: ServiceSpec, timeout: float = 300.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while asyncio.get_running_loop().time() < deadline:
                if self._stopping.is_set() or self._processes[spec.name].returncode is not None:
                    return False
                try:
                    if (await client.get(spec.health_url)).status_code < 500:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        return False

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        for spec in self._services:
            await self._start(spec)
        keepers = [asyncio.create_task(self._keep_running(spec)) for spec in self._services]
        healthy = await asyncio.gather(*(self._wait_healthy(s) for s in self._services))
        if all(healthy):
            self._ready = True
            print(f"\n  Helpline is ready: {self._ready_message}\n  Press Ctrl-C to stop.\n", flush=True)
        else:
            failed = [s.name for s, ok in zip(self._services, healthy) if not ok]
            logger.error("not healthy: %s; stopping", ", ".join(failed))
            self._stopping.set()
        await self._stopping.wait()
        await self._stop_all()
        for task in keepers:
            task.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        await asyncio.gather(*self._pumps, return_exceptions=True)
        return 0 if all(healthy) else 1

    async def _keep_running(self, spec: ServiceSpec) -> None:
        """Wait for the process to exit; once the stack is ready, start it again."""
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            started = loop.time()
            code = await self._processes[spec.name].wait()
            if self._stopping.is_set():
                return
            if not self._ready:
                logger.error("%s exited with code %s while starting; stopping the others", spec.name, code)
                self._stopping.set()
                return
            failures = 1 if loop.time() - started >= self._policy.reset_after else failures + 1
            delay = self._policy.delay(failures)
            logger.error(
                "%s exited with code %s; restarting it in %g s (the others keep running)",
                spec.name, code, delay,
            )
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return  # Ctrl-C during the back-off
            except asyncio.TimeoutError:
                pass
            await self._start(spec)
            self.restarts[spec.name] += 1
            if await self._wait_healthy(spec):
                logger.info("%s is back (restart %d)", spec.name, self.restarts[spec.name])

    async def _stop_all(self) -> None:
        for process in self._processes.values():
            if process.returncode is None:
                _signal_group(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.wait() for p in self._processes.values())), STOP_GRACE_SECONDS
            )
        except asyncio.TimeoutError:
            for process in self._processes.values():
                if process.returncode is None:
                    _signal_group(process, signal.SIGKILL)
            await asyncio.gather(*(p.wait() for p in self._processes.values()))


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Each child leads its own session (start_new_session), so its group is its pid."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
