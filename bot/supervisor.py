"""Runs Rasa, the action server and the gateway together (``helpline run``).

Their output is interleaved line by line with a coloured prefix; when all three answer
their health checks the chat URL is printed; Ctrl-C (or SIGTERM) stops all of them, and
if one of them dies the others are stopped too, so a half-running system never lingers.
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

COLOURS = {"rasa": "35", "actions": "36", "gateway": "32"}
STOP_GRACE_SECONDS = 10.0


@dataclass
class ServiceSpec:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


class Supervisor:
    def __init__(self, services: list[ServiceSpec], ready_message: str) -> None:
        self._services = services
        self._ready_message = ready_message
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._stopping = asyncio.Event()

    def _prefix(self, name: str) -> str:
        width = max(len(s.name) for s in self._services)
        label = f"{name:<{width}} |"
        return f"\x1b[{COLOURS.get(name, '37')}m{label}\x1b[0m" if sys.stdout.isatty() else label

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        prefix = self._prefix(name)
        while line := await stream.readline():
            sys.stdout.write(f"{prefix} {line.decode(errors='replace').rstrip()}\n")
            sys.stdout.flush()

    async def _start(self, spec: ServiceSpec) -> asyncio.Task[None]:
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
        return asyncio.create_task(self._pump(spec.name, process.stdout))

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
        pumps = [await self._start(spec) for spec in self._services]
        watchers = [asyncio.create_task(self._watch(name)) for name in self._processes]
        healthy = await asyncio.gather(*(self._wait_healthy(s) for s in self._services))
        if all(healthy):
            print(f"\n  Helpline is ready: {self._ready_message}\n  Press Ctrl-C to stop.\n", flush=True)
        else:
            failed = [s.name for s, ok in zip(self._services, healthy) if not ok]
            logger.error("not healthy: %s; stopping", ", ".join(failed))
            self._stopping.set()
        await self._stopping.wait()
        await self._stop_all()
        for task in watchers:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        return 0 if all(healthy) else 1

    async def _watch(self, name: str) -> None:
        code = await self._processes[name].wait()
        if not self._stopping.is_set():
            logger.error("%s exited with code %s; stopping the others", name, code)
            self._stopping.set()

    async def _stop_all(self) -> None:
        for process in self._processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.wait() for p in self._processes.values())), STOP_GRACE_SECONDS
            )
        except asyncio.TimeoutError:
            for process in self._processes.values():
                if process.returncode is None:
                    process.kill()
