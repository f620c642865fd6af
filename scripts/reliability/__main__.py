"""Reliability harness for Helpline: soak, faults, Telegram, channel fuzz, PII, backup drill.

    .venv/bin/python scripts/reliability                       # everything, full size
    .venv/bin/python scripts/reliability --families soak --customers 200 --messages 50 --telegram-chats 50
    .venv/bin/python scripts/reliability --families faults --faults gateway,rasa,actions,slow,disk,postgres,redis
    .venv/bin/python scripts/reliability --families soak --replicas 2   # on `helpline run --replicas 2`

Bounded in count and time, loopback only: the stack runs under `helpline run` on free
ports with state in a temporary folder; PostgreSQL, Redis and the small disk are
throwaway ones started here (never the machine's own servers). Needs root for the
tmpfs (disk-full fault) and to run initdb as the postgres user. Prints a table
family | tried | held | failed and writes test-output/reliability.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
sys.path[:0] = [str(PROJECT), str(HERE.parent)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from reliability.families import Result, faults, pii_family, pytest_family, soak  # noqa: E402

FAMILIES = ("soak", "faults", "telegram", "fuzz", "pii", "backup")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help=f"comma-separated: {', '.join(FAMILIES)}")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--telegram-chats", type=int, default=50)
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="pause between a customer's messages (0: closed loop, a stress test)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="the soak's database (postgres: a throwaway cluster)")
    parser.add_argument("--replicas", type=int, default=None, help="run the soak on `helpline run --replicas N`")
    parser.add_argument("--fault-customers", type=int, default=30)
    parser.add_argument("--fault-messages", type=int, default=20)
    parser.add_argument("--faults", default=None, help="gateway,rasa,actions,slow,disk,postgres,redis (default all)")
    parser.add_argument("--rss-factor", type=float, default=1.5, help="memory bound: after <= before x factor ...")
    parser.add_argument("--rss-slack-mb", type=float, default=150.0, help="... or before + this many MB")
    args = parser.parse_args()
    chosen = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = set(chosen) - set(FAMILIES)
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")
    results: list[Result] = []
    started = time.monotonic()
    if "soak" in chosen:
        soak_result, drill = asyncio.run(soak(args.customers, args.messages, args.telegram_chats, args.database,
                                              args.replicas, (args.rss_factor, args.rss_slack_mb),
                                              args.think_seconds))
        results += [soak_result, drill]
    if "faults" in chosen:
        only = set(args.faults.split(",")) if args.faults else None
        results.append(asyncio.run(faults(args.fault_customers, args.fault_messages, only)))
    if "telegram" in chosen:
        results.append(pytest_family("3 Telegram", [
            "tests/telegram/test_webhook.py", "tests/telegram/test_sending.py", "tests/telegram/test_polling.py",
            "tests/reliability/test_telegram_storm.py",
            "tests/reliability/test_fuzz_channels.py::test_telegram_webhook_fuzz"]))
    if "fuzz" in chosen:
        results.append(pytest_family("4 Fuzz (socket.io, webhook)", ["tests/reliability/test_fuzz_channels.py"]))
    if "pii" in chosen:
        results.append(pii_family())
    if "backup" in chosen:
        pg = {"TEST_DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")}
        results.append(pytest_family("9 Backup drill", ["tests/reliability/test_backup_restore.py"], pg))
    print()
    print(f"{'family':<30} | {'tried':>6} | {'held':>6} | {'failed':>6}")
    print("-" * 58)
    for result in results:
        print(f"{result.family:<30} | {result.tried:>6} | {result.held:>6} | {result.failed:>6}")
    print()
    for result in results:
        print(f"== {result.family}")
        for note in result.notes:
            print(f"   {note}")
    print(f"\n{time.monotonic() - started:.0f} s in all")
    out = PROJECT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "reliability.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
