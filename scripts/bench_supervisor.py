#!/usr/bin/env python
"""Supervisor pages under load: the KPI dashboard's and the review list's response times.

    scripts/bench_supervisor.py --url URL [--conversations 100000 --messages 1000000]
        [--days 90] [--runs 7] [--keep] [--password PW]

``URL`` is a SQLite file (``sqlite:////tmp/bench.db``) or a PostgreSQL database
(``postgresql://postgres@127.0.0.1:5432/helpline_bench``). A database that already has
conversations is reused as it is (seeded earlier with scripts/seed_support_data.py and
the same password); otherwise it is created if missing, migrated and seeded, and
dropped (PostgreSQL) or deleted (SQLite) at the end unless ``--keep``.

The gateway runs in this process (uvicorn on a free port, Rasa not needed), a seeded
supervisor signs in over HTTP, and each request is timed end to end (HTTP, JSON and
all). "cold" is the first request after the gateway started (fresh connections, the
database's caches as the seeding left them); "warm" is p50 / p95 over ``--runs``
further requests. Printed as a table; the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import create_engine, func, inspect, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.db import make_engine  # noqa: E402
from bot.transcript.models import Conversation  # noqa: E402

SEED_SCRIPT = Path(__file__).resolve().parent / "seed_support_data.py"
DEFAULT_PASSWORD = "helpline-demo-password"
LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def driver_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _load_seeder():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("seed_support_data", SEED_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _conversations(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if "conversations" not in inspect(connection).get_table_names():
                return 0
            return int(connection.scalar(select(func.count()).select_from(Conversation)) or 0)
    finally:
        engine.dispose()


@contextmanager
def database(url: str, keep: bool) -> Iterator[tuple[str, bool]]:
    """(driver URL, created here); drops / deletes what it created unless ``keep``."""
    url = driver_url(url)
    created = False
    if url.startswith("postgresql"):
        target = make_url(url)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
                created = True
        try:
            yield url, created
        finally:
            if created and not keep:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = Path(make_url(url).database or "")
        created = not path.exists()
        try:
            yield url, created
        finally:
            if created and not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gateway(url: str, home: Path) -> Iterator[str]:
    from bot.app import create_app
    from bot.settings import Settings

    port = free_port()
    settings = Settings(home=home, database_url=url.replace("postgresql+psycopg://", "postgresql://"),
                        secret_key="bench-secret", port=port, rasa_url=f"http://127.0.0.1:{free_port()}",
                        password_min_length=8, csat_enabled=False, log_level="WARNING")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def login(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = LOGIN_TOKEN.search(client.get("/login").text)
    if not token:
        raise SystemExit("no login form")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token.group(1)})
    if response.status_code not in (302, 303):
        raise SystemExit(f"login as {email} failed ({response.status_code}); seeded with another --password?")
    return client


class CpuClock:
    """CPU seconds spent on a request: this process (gateway and client, all threads)
    plus, on PostgreSQL, the server processes serving this database (read from
    /proc/<pid>/stat on this machine). Unlike wall time it does not grow when other
    work shares the cores, so it says what a request costs on an idle machine."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url) if url.startswith("postgresql") else None
        self.database = make_url(url).database
        self.tick = os.sysconf("SC_CLK_TCK")

    def _server(self) -> float:
        if self.engine is None:
            return 0.0
        with self.engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": self.database},
            ).all()
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # another machine's server, or the process ended
            total += (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return total

    def now(self) -> float:
        return time.process_time() + self._server()


def timed(client: httpx.Client, path: str, params: dict[str, str], runs: int,
          cpu: CpuClock) -> dict[str, float] | None:
    """Milliseconds: the first request, then p50 / p95 of ``runs`` more (and the warm
    runs' median CPU time); None if the route does not exist (404 / 405)."""
    samples: list[float] = []
    cpu_samples: list[float] = []
    for _ in range(runs + 1):
        cpu_before = cpu.now()
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_samples.append((cpu.now() - cpu_before) * 1000)
        if response.status_code in (404, 405):
            return None
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: {response.status_code} {response.text[:200]}")
        samples.append(elapsed)
    warm = sorted(samples[1:])
    p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
    return {"cold": samples[0], "p50": statistics.median(warm), "p95": p95, "cpu": statistics.median(cpu_samples[1:])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--keep", action="store_true", help="keep a database created here")
    args = parser.parse_args(argv)

    with database(args.url, args.keep) as (url, created), tempfile.TemporaryDirectory() as home:
        existing = _conversations(url)
        if existing:
            print(f"reusing {existing} conversations at {make_url(url).render_as_string(hide_password=True)}")
        else:
            started = time.perf_counter()
            counts = _load_seeder().seed(url, args.conversations, args.messages, args.days, 1, args.password)
            print(f"seeded {counts['conversations']} conversations, {counts['messages']} messages, "
                  f"{counts['tickets']} tickets in {time.perf_counter() - started:.0f} s")
        today = datetime.now(UTC).date()
        month = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
        quarter = {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()}
        week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
        cases = [
            ("dashboard, 30 days", "/api/dashboard", month),
            ("dashboard, 30 days, channel=web", "/api/dashboard", {**month, "channel": "web"}),
            ("dashboard, 30 days, category=billing", "/api/dashboard", {**month, "category": "billing"}),
            ("dashboard, 90 days (weekly)", "/api/dashboard", quarter),
            ("dashboard, 7 days", "/api/dashboard", week),
            ("review list, 30 days, channel=web, outcome=escalated", "/api/review/conversations",
             {**month, "channel": "web", "outcome": "escalated"}),
            ("review list, 7 days, category=billing, reason=complaint", "/api/review/conversations",
             {**week, "category": "billing", "reason": "complaint"}),
        ]
        dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        load = os.getloadavg()[0]
        with gateway(url, Path(home)) as base, closing(login(base, "supervisor@example.com", args.password)) as client:
            print(f"\n{dialect}, load average {load:.1f} on {os.cpu_count()} cores, {args.runs} warm runs each")
            print(f"{'request':58} {'cold':>8} {'p50':>8} {'p95':>8} {'cpu p50':>8}")
            cpu = CpuClock(url)
            for name, path, params in cases:
                result = timed(client, path, params, args.runs, cpu)
                if result is None:
                    print(f"{name:58} not available")
                    continue
                print(f"{name:58} {result['cold']:6.0f}ms {result['p50']:6.0f}ms {result['p95']:6.0f}ms "
                      f"{result['cpu']:6.0f}ms")
            print("cpu: CPU time of the gateway process and the database server per request (median)")
        if created and not args.keep:
            print("(the database created for this run is removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
