#!/usr/bin/env python
"""Load benchmark: N concurrent customers over the gateway's socket.io channel.

Starts the whole Helpline stack (Rasa, action server, gateway) on free ports with state
in a temporary folder, runs closed-loop customers (each asks, waits for the answer,
asks again) with FAQ questions, and prints p50/p95/p99 latency and messages per second.
Then, in the same run, the same load against a stock `rasa init` assistant (DIET + TED,
trained once into .cache/stock-rasa) over Rasa's REST channel, on the same Rasa install.

    .venv/bin/python scripts/bench_gateway.py --customers 20 --messages 15
    .venv/bin/python scripts/bench_gateway.py --skip-stock   # Helpline only

Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import socketio

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.local_stack import free_port, make_stack  # noqa: E402

STOCK_DIR = PROJECT / ".cache" / "stock-rasa"
STOCK_TEXTS = ["hello", "I am sad", "great", "yes", "no", "goodbye", "are you a bot?", "I am happy"]


def faq_questions() -> list[str]:
    path = PROJECT / "data" / "faq_eval" / "queries.csv"
    with path.open(newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["faq_id"]]


def summary(name: str, latencies: list[float], elapsed: float, errors: int) -> str:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return (
        f"{name:<28} n={len(ordered):<5} errors={errors:<3} msg/s={len(ordered) / elapsed:6.1f}  "
        f"p50={pct(0.50):6.0f} ms  p95={pct(0.95):6.0f} ms  p99={pct(0.99):6.0f} ms  "
        f"mean={statistics.fmean(ordered) * 1000:6.0f} ms"
    )


async def socketio_customer(url: str, texts: list[str], latencies: list[float], errors: list[int]) -> None:
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue[dict] = asyncio.Queue()
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    client.on("bot_uttered", replies.put)
    client.on("session_confirm", confirmed.put)
    await client.connect(url, transports=["websocket"])
    await client.emit("session_request", {})
    await asyncio.wait_for(confirmed.get(), 10)
    for index, text in enumerate(texts):
        started = time.perf_counter()
        await client.emit("user_uttered", {"message": text, "message_id": f"b{index}"})
        try:
            await asyncio.wait_for(replies.get(), 30)
            # A turn may produce several messages; count the first, drain the rest.
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
            while not replies.empty():
                replies.get_nowait()
        except asyncio.TimeoutError:
            errors.append(1)
    await client.disconnect()


async def rest_customer(url: str, texts: list[str], latencies: list[float], errors: list[int], sender: str) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        for text in texts:
            started = time.perf_counter()
            response = await http.post(url, json={"sender": sender, "message": text})
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(1)


async def run_load(kind: str, url: str, customers: int, messages: int, pool: list[str]) -> str:
    latencies: list[float] = []
    errors: list[int] = []
    rng = random.Random(7)
    plans = [[rng.choice(pool) for _ in range(messages)] for _ in range(customers)]
    # Warm-up: the first request of a fresh process pays for lazy initialisation.
    if kind == "socketio":
        await socketio_customer(url, pool[:3], [], [])
    else:
        await rest_customer(url, pool[:3], [], [], "warmup")
    started = time.perf_counter()
    if kind == "socketio":
        await asyncio.gather(*(socketio_customer(url, p, latencies, errors) for p in plans))
    else:
        await asyncio.gather(
            *(rest_customer(url, p, latencies, errors, f"c{i}") for i, p in enumerate(plans))
        )
    return summary(
        f"{'helpline (socket.io)' if kind == 'socketio' else 'stock rasa init (REST)'} x{customers}",
        latencies, time.perf_counter() - started, len(errors),
    )


def bench_helpline(customers: int, messages: int) -> str:
    state = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    stack = make_stack(state)
    try:
        for name in ("actions", "rasa", "gateway"):
            stack.start(name)
        return asyncio.run(run_load("socketio", stack.url, customers, messages, faq_questions()))
    finally:
        stack.stop_all()
        shutil.rmtree(state, ignore_errors=True)


def bench_stock(customers: int, messages: int, rasa: Path) -> str:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not list((STOCK_DIR / "models").glob("*.tar.gz")):
        print("training the stock `rasa init` assistant once (a few minutes)…", flush=True)
        STOCK_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(rasa), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                       cwd=STOCK_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(PROJECT / ".cache" / "stock-rasa.log", "wb")
    process = subprocess.Popen([str(rasa), "run", "--port", str(port), "-i", "127.0.0.1"],
                               cwd=STOCK_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        return asyncio.run(run_load("rest", url, customers, messages, STOCK_TEXTS))
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=15, help="per customer")
    parser.add_argument("--skip-stock", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"{os.cpu_count()} cores; {args.customers} concurrent customers x {args.messages} messages")
    lines = [bench_helpline(args.customers, args.messages)]
    print(lines[-1], flush=True)
    if not args.skip_stock:
        lines.append(bench_stock(args.customers, args.messages, PROJECT / ".venv-rasa" / "bin" / "rasa"))
        print(lines[-1], flush=True)


if __name__ == "__main__":
    main()
