#!/usr/bin/env python
"""Load benchmark: Helpline under `helpline run --replicas N` beside a stock `rasa init`.

For each configuration, in one run on the same install:

- **CPU per message**: one customer asks sequential FAQ questions; the CPU time of every
  process (utime + stime from /proc/<pid>/stat, children included) is read before and
  after and divided by the messages answered. Helpline: each gateway, Rasa server, action
  server, HAProxy and the benchmark's own redis-server, and the total (PostgreSQL's
  backends are on a server other people use, so they are reported beside the total,
  not in it). Stock: its Rasa process.
- **Concurrent load**: N customers (default 20) each ask M questions, waiting for each
  answer and pausing (default 0.2 s) before the next: msg/s, p50/p95/p99, and CPU per
  message again under that load.

Helpline runs on PostgreSQL (a throwaway database on the server --postgres names) and a
redis-server started on a free port for the run; the stock assistant (DIET + TED,
trained once into .cache/stock-rasa) uses its defaults (in-memory tracker, REST channel).

    .venv/bin/python scripts/bench_gateway.py                      # stock, --replicas 1 and 2
    .venv/bin/python scripts/bench_gateway.py --replicas 1 --skip-stock --messages 5

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
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import httpx
import socketio

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.local_stack import SupervisedRun, free_port, free_port_block, make_stack  # noqa: E402

STOCK_DIR = PROJECT / ".cache" / "stock-rasa"
STOCK_TEXTS = ["hello", "I am sad", "great", "yes", "no", "goodbye", "are you a bot?", "I am happy"]
TICKS = os.sysconf("SC_CLK_TCK")
# The benchmark's customers all come from 127.0.0.1 and ask faster than a person: the
# public chat's flood limits would refuse them (they are measured in docs/reliability.md).
NO_CHAT_LIMITS = {
    "HELPLINE_CHAT_MESSAGES_PER_CONVERSATION": "0",
    "HELPLINE_CHAT_MESSAGES_PER_IP": "0",
    "HELPLINE_CHAT_NEW_CONVERSATIONS_PER_IP": "0",
}


def faq_questions() -> list[str]:
    path = PROJECT / "data" / "faq_eval" / "queries.csv"
    with path.open(newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["faq_id"]]


# -- CPU from /proc ----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its waited-for children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the ")": state is field 3, so utime (14) is index 11 ... cstime (17) index 14.
    return sum(int(v) for v in fields[11:15]) / TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def postgres_backends() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@dataclass
class Meter:
    """CPU seconds of named processes between start() and stop()."""

    processes: Callable[[], dict[str, list[int]]]

    def read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.processes().items()}

    def start(self) -> None:
        self._before = self.read()

    def per_message(self, messages: int) -> dict[str, float]:
        after = self.read()
        return {
            name: (after[name] - self._before.get(name, after[name])) * 1000 / max(1, messages)
            for name in after
        }


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def helpline_processes(run_pid: int) -> dict[str, list[int]]:
    """The supervisor's children by service name (read from their command line/env)."""
    named: dict[str, list[int]] = {}
    for child in children_of(run_pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            environ = dict(
                item.split(b"=", 1) for item in Path(f"/proc/{child}/environ").read_bytes().split(b"\0") if b"=" in item
            )
        except OSError:
            continue
        replica = environ.get(b"HELPLINE_REPLICA", b"").decode()
        if any(a.endswith(b"haproxy") for a in argv):
            name = "haproxy"
        elif b"gateway" in argv:
            name = f"gateway-{replica or 1}"
        elif b"actions" in argv:
            name = f"actions-{environ.get(b'HELPLINE_ACTION_PORT', b'?').decode()}"
        elif b"run" in argv and b"--port" in argv:
            name = f"rasa-{argv[argv.index(b'--port') + 1].decode()}"
        else:
            name = "other"
        named.setdefault(name, []).extend([child, *descendants(child)])
    # Ports are stable per run: number Rasa and action servers 1..N by port.
    for prefix in ("rasa-", "actions-"):
        keys = sorted((k for k in named if k.startswith(prefix)), key=lambda k: k.split("-")[1])
        for index, key in enumerate(keys, start=1):
            named[f"{prefix}{index}"] = named.pop(key)
    return named


# -- customers ---------------------------------------------------------------------------


def summary(name: str, latencies: list[float], elapsed: float, errors: int) -> str:
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return (
        f"{name:<34} n={len(latencies):<5} errors={errors:<3} msg/s={len(latencies) / elapsed:6.1f}  "
        f"p50={pct(0.50):6.0f} ms  p95={pct(0.95):6.0f} ms  p99={pct(0.99):6.0f} ms  "
        f"mean={statistics.fmean(ordered) * 1000:6.0f} ms"
    )


async def socketio_customer(
    url: str, texts: list[str], latencies: list[float], errors: list[int], pause: float
) -> None:
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
            await asyncio.sleep(max(pause, 0.05))
            while not replies.empty():
                replies.get_nowait()
        except asyncio.TimeoutError:
            errors.append(1)
    await client.disconnect()


async def rest_customer(
    url: str, texts: list[str], latencies: list[float], errors: list[int], sender: str, pause: float
) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        for text in texts:
            started = time.perf_counter()
            response = await http.post(url, json={"sender": sender, "message": text})
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(1)
            if pause:
                await asyncio.sleep(pause)


async def run_load(
    kind: str, url: str, customers: int, messages: int, pool: list[str], pause: float, seed: int
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors: list[int] = []
    rng = random.Random(seed)
    plans = [[rng.choice(pool) for _ in range(messages)] for _ in range(customers)]
    started = time.perf_counter()
    if kind == "socketio":
        await asyncio.gather(*(socketio_customer(url, p, latencies, errors, pause) for p in plans))
    else:
        await asyncio.gather(
            *(rest_customer(url, p, latencies, errors, f"c{seed}-{i}", pause) for i, p in enumerate(plans))
        )
    return latencies, time.perf_counter() - started, len(errors)


def cpu_line(name: str, per_message: dict[str, float], outside: dict[str, float] | None = None) -> str:
    total = sum(per_message.values())
    parts = "  ".join(f"{k}={v:5.1f}" for k, v in sorted(per_message.items()))
    line = f"{name:<34} CPU ms/msg: {parts}  TOTAL={total:5.1f}"
    if outside:
        line += "  (" + "  ".join(f"{k}={v:5.1f}" for k, v in outside.items()) + ", not in total)"
    return line


def measure(
    label: str, kind: str, url: str, meter: Meter, pg_meter: Meter | None, args: argparse.Namespace,
    pool: list[str],
) -> list[str]:
    lines = []
    # Warm-up: the first requests of a fresh process pay for lazy initialisation.
    asyncio.run(run_load(kind, url, 2, 3, pool, 0.0, seed=99))
    meter.start()
    if pg_meter:
        pg_meter.start()
    latencies, elapsed, errors = asyncio.run(run_load(kind, url, 1, args.sequential, pool, 0.0, seed=1))
    lines.append(summary(f"{label} x1 sequential", latencies, elapsed, errors))
    lines.append(cpu_line(f"{label} x1 sequential", meter.per_message(len(latencies)),
                          pg_meter.per_message(len(latencies)) if pg_meter else None))
    print(*lines[-2:], sep="\n", flush=True)
    meter.start()
    if pg_meter:
        pg_meter.start()
    latencies, elapsed, errors = asyncio.run(
        run_load(kind, url, args.customers, args.messages, pool, args.pause, seed=2)
    )
    name = f"{label} x{args.customers} pause {args.pause}s"
    lines.append(summary(name, latencies, elapsed, errors))
    lines.append(cpu_line(name, meter.per_message(len(latencies)),
                          pg_meter.per_message(len(latencies)) if pg_meter else None))
    print(*lines[-2:], sep="\n", flush=True)
    if args.profile and kind == "socketio":
        profile_under_load(label, url, meter, args, pool)
    return lines


def profile_under_load(label: str, url: str, meter: Meter, args: argparse.Namespace, pool: list[str]) -> None:
    """py-spy samples every process (main pid) during one more concurrent run; prints
    the functions with the most samples, own time (leaf) and with callees (inclusive)."""
    folder = Path(args.profile) / label.replace(" ", "_").replace("-", "")
    folder.mkdir(parents=True, exist_ok=True)
    spies = {}
    for name, pids in meter.processes().items():
        if not pids or name in ("redis", "haproxy"):
            continue
        spies[name] = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking", "--rate", "200",
             "--format", "raw", "--output", str(folder / f"{name}.txt"), "--pid", str(pids[0])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    time.sleep(1.0)
    asyncio.run(run_load("socketio", url, args.customers, args.messages, pool, args.pause, seed=3))
    for spy in spies.values():
        spy.send_signal(2)
        spy.wait(60)
    for name in spies:
        print_profile(name, folder / f"{name}.txt")


def short_frame(frame: str) -> str:
    """'handle (/long/path/site-packages/rasa/core/agent.py:123)' -> 'handle (rasa/core/agent.py)'."""
    if " (" not in frame:
        return frame
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


def print_profile(name: str, path: Path, top: int = 12) -> None:
    if not path.exists():
        print(f"  {name}: no profile")
        return
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [short_frame(f) for f in stack.split(";")]
        # Idle threads (waiting in select/epoll, thread pools' queues) are not CPU.
        if frames and any(w in frames[-1] for w in ("select (", "poll (", "wait (", "_worker (")):
            continue
        total += samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
    print(f"  {name}: {total} busy samples; own time:")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * count / max(1, total):5.1f}%  {frame}")
    print(f"  {name}: with callees (project and library entry points):")
    interesting = [kv for kv in inclusive.items()
                   if any(k in kv[0] for k in ("bot/", "actions/", "knowledge_base/", "handoff/", "staff/", "rasa/",
                                               "sqlalchemy", "socketio", "engineio", "torch", "sentence_transformers",
                                               "faiss", "psycopg", "redis", "httpx", "sanic", "aiohttp", ".py"))]
    for frame, count in sorted(interesting, key=lambda kv: -kv[1])[3:3 + top * 2]:
        print(f"    {100 * count / max(1, total):5.1f}%  {frame}")


# -- the systems under test --------------------------------------------------------------


@contextmanager
def throwaway_redis() -> Iterator[tuple[str, int]]:
    port = free_port()
    folder = tempfile.mkdtemp(prefix="helpline-bench-redis-")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"helpline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False).replace(
            "postgresql+psycopg://", "postgresql://", 1)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_helpline(replicas: int, args: argparse.Namespace) -> list[str]:
    state = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    with throwaway_database(args.postgres) as database_url, throwaway_redis() as (redis_url, redis_pid):
        stack = make_stack(state, database_url=database_url, redis_url=redis_url)
        port = free_port_block(replicas + 1)
        env = {
            **stack.env, **NO_CHAT_LIMITS,
            "HELPLINE_PORT": str(port),
            "HELPLINE_RASA_PORT": str(free_port_block(replicas)),
            "HELPLINE_ACTION_PORT": str(free_port_block(replicas + 1)),
            "HELPLINE_LOG_LEVEL": "WARNING",
        }
        run = SupervisedRun(env, "--replicas", str(replicas))
        try:
            run.wait_for("Helpline is ready", timeout=600)

            def processes() -> dict[str, list[int]]:
                return {**helpline_processes(run.process.pid), "redis": [redis_pid]}

            meter = Meter(processes)
            pg_meter = Meter(lambda: {"postgres": postgres_backends()})
            return measure(f"helpline --replicas {replicas}", "socketio", f"http://127.0.0.1:{port}",
                           meter, pg_meter, args, faq_questions())
        finally:
            run.interrupt()
            shutil.rmtree(state, ignore_errors=True)


def bench_stock(args: argparse.Namespace, rasa: Path) -> list[str]:
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
        deadline = time.monotonic() + 900  # loading TensorFlow models is slow on a busy machine
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("stock Rasa did not start; see .cache/stock-rasa.log") from None
                time.sleep(1)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        meter = Meter(lambda: {"rasa": [process.pid, *descendants(process.pid)]})
        return measure("stock rasa init (REST)", "rest", url, meter, None, args, STOCK_TEXTS)
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="per concurrent customer")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between a customer's questions")
    parser.add_argument("--sequential", type=int, default=60, help="questions of the one-customer CPU run")
    parser.add_argument("--replicas", default="1,2", help="comma-separated replica counts to run")
    parser.add_argument("--postgres", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server (a throwaway database is created on it and dropped)")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--profile", metavar="DIR",
                        help="also sample every Helpline process with py-spy under load; raw profiles to DIR")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f}; {args.customers} concurrent customers x "
          f"{args.messages} messages, {args.pause}s pause; {args.sequential} sequential for CPU/msg", flush=True)
    lines: list[str] = []
    for replicas in (int(n) for n in args.replicas.split(",") if n):
        lines += bench_helpline(replicas, args)
    if not args.skip_stock:
        lines += bench_stock(args, PROJECT / ".venv-rasa" / "bin" / "rasa")
    print("\nsummary (load average now %.1f)" % os.getloadavg()[0])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
