#!/usr/bin/env python
"""What one flooding customer costs everyone else: a normal customer's latency on the
web chat before and during a flood from another socket (issue 15, "Abuse").

Runs, on this machine only (127.0.0.1, free ports, bounded counts):
- a stand-in Rasa in its own process that spends ``--rasa-cpu-ms`` of CPU per message
  (a busy loop, like a real NLU + policy turn) and answers "echo: <text>";
- the real gateway (uvicorn, bot.app:create_app) in its own process on a fresh SQLite
  database, once with the public chat's rate limits as configured (the defaults) and
  once with them off;
- a normal customer asking ``--questions`` questions one after another (``--pause``, 1 s),
  first alone, then while a flooder on another socket sends batches of 25 messages at once,
  batch after batch, until the normal customer is done (at most ``--flood`` messages).

Prints p50/p95/max of the normal customer's time from sending to the answer, and what
happened to the flood (stored/refused). Asserts nothing.

    .venv/bin/python scripts/bench_flood.py
    .venv/bin/python scripts/bench_flood.py --flood 1000 --questions 15 --rasa-cpu-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import socketio

ROOT = Path(__file__).resolve().parent.parent

STAND_IN_RASA = r"""
import sys, time
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
import uvicorn

CPU_SECONDS = float(sys.argv[2]) / 1000

def burn() -> None:
    end = time.process_time() + CPU_SECONDS
    while time.process_time() < end:
        pass

async def webhook(request: Request) -> JSONResponse:
    body = await request.json()
    burn()  # on the event loop on purpose: one Rasa process does one turn's CPU at a time
    return JSONResponse({"intent": {"name": "faq", "confidence": 0.9}, "rasa_ms": 1.0,
                         "messages": [{"recipient_id": body["sender"], "text": "echo: " + body["message"]}]})

async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[Route("/", health), Route("/webhooks/helpline/webhook", webhook, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


class Customer:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.answers: asyncio.Queue[str] = asyncio.Queue()
        self.sio.on("bot_uttered", lambda data: self.answers.put_nowait(data.get("text", "")))

    async def connect(self, url: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self.sio.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
        await self.sio.connect(url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed, 10)

    async def ask(self, text: str) -> float:
        started = time.perf_counter()
        ack = await self.sio.call("user_uttered", {"message": text}, timeout=60)
        if ack.get("status") != "stored":
            raise SystemExit(f"the normal customer's message was not stored: {ack}")
        while (await asyncio.wait_for(self.answers.get(), 120)) != f"echo: {text}":
            pass
        return (time.perf_counter() - started) * 1000


async def normal_latencies(url: str, questions: int, pause: float, tag: str) -> list[float]:
    customer = Customer()
    await customer.connect(url)
    latencies = []
    for n in range(questions):
        latencies.append(await customer.ask(f"{tag} question {n}"))
        await asyncio.sleep(pause)
    await customer.sio.disconnect()
    return latencies


async def flood(url: str, count: int, stop: asyncio.Event) -> Counter[str]:
    """Batches of 25 messages at once, one batch after another, until ``count`` were sent
    or the normal customer is done."""
    flooder = Customer()
    await flooder.connect(url)
    outcome: Counter[str] = Counter()
    sent = 0
    while sent < count and not stop.is_set():
        batch = min(25, count - sent)
        acks = await asyncio.gather(
            *(flooder.sio.call("user_uttered", {"message": f"spam {sent + n}"}, timeout=120) for n in range(batch)),
            return_exceptions=True,
        )
        sent += batch
        outcome.update(ack.get("status", "?") if isinstance(ack, dict) else type(ack).__name__ for ack in acks)
    await flooder.sio.disconnect()
    return outcome


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):7.1f} ms  p95 {p95:7.1f} ms  max {ordered[-1]:7.1f} ms"


async def measure(url: str, args: argparse.Namespace, label: str) -> None:
    before = await normal_latencies(url, args.questions, args.pause, "before")
    stop = asyncio.Event()
    flood_task = asyncio.create_task(flood(url, args.flood, stop))
    await asyncio.sleep(0.05)
    during = await normal_latencies(url, args.questions, args.pause, "during")
    stop.set()
    outcome = await flood_task
    print(f"{label}:", flush=True)
    print(f"  normal customer alone       {summary(before)}")
    print(f"  normal customer, flood on   {summary(during)}")
    print(f"  flood of {args.flood}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))


def run_gateway(folder: Path, rasa_port: int, limits: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    sys.path.insert(0, str(ROOT))
    from bot.migrate import upgrade

    database = folder / f"bench-{time.time_ns()}.db"
    upgrade(f"sqlite:///{database}")
    port = free_port()
    env = {**os.environ, "HELPLINE_HOME": str(ROOT), "DATABASE_URL": f"sqlite:///{database}",
           "HELPLINE_VAR_DIR": str(folder), "HELPLINE_SECRET_KEY": "bench", "HELPLINE_PORT": str(port),
           "HELPLINE_RASA_URL": f"http://127.0.0.1:{rasa_port}", "HELPLINE_CSAT_ENABLED": "false",
           "HELPLINE_LOG_LEVEL": "WARNING", **limits}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bot.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return process, f"http://127.0.0.1:{port}"


def main() -> None:
    # A stop from outside (timeout, Ctrl-C) still ends the gateway and the stand-in Rasa.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=1000, help="messages the flooder sends at most (cap 2000)")
    parser.add_argument("--questions", type=int, default=15, help="questions the normal customer asks per phase")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds the normal customer waits after each answer")
    parser.add_argument("--rasa-cpu-ms", type=float, default=20.0, help="CPU the stand-in Rasa spends per message")
    args = parser.parse_args()
    args.flood = min(args.flood, 2000)
    rasa_port = free_port()
    rasa = subprocess.Popen([sys.executable, "-c", STAND_IN_RASA, str(rasa_port), str(args.rasa_cpu_ms)])
    try:
        wait_http(f"http://127.0.0.1:{rasa_port}/")
        with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
            for label, limits in (
                ("rate limits on (defaults)", {}),
                ("rate limits off", {"HELPLINE_CHAT_MESSAGES_PER_CONVERSATION": "0",
                                     "HELPLINE_CHAT_MESSAGES_PER_IP": "0",
                                     "HELPLINE_CHAT_NEW_CONVERSATIONS_PER_IP": "0"}),
            ):
                gateway, url = run_gateway(Path(tmp), rasa_port, limits)
                try:
                    asyncio.run(measure(url, args, label))
                finally:
                    gateway.terminate()  # with limits off its backlog may still be draining
                    try:
                        gateway.wait(10)
                    except subprocess.TimeoutExpired:
                        gateway.kill()
                        gateway.wait(10)
    finally:
        rasa.terminate()
        rasa.wait(10)


if __name__ == "__main__":
    main()
