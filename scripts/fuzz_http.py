"""Longer HTTP fuzz run for docs/reliability.md ("Fuzzing (HTTP)"): the same checks as
tests/security/test_fuzz_http.py with more examples, every role (another agent too),
printing tried / held / failed and the status counts.

    .venv/bin/python scripts/fuzz_http.py --examples 50 --webhook 1000

Loopback only: a gateway on 127.0.0.1 (free port, scripted Rasa, temporary SQLite).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.migrate import upgrade  # noqa: E402
from tests.security.live import ROLES, live_world  # noqa: E402
from tests.security.test_fuzz_http import FuzzReport, fuzz_schema, fuzz_telegram_webhook  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation, role and mode")
    parser.add_argument("--webhook", type=int, default=1000, help="generated Telegram webhook bodies")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        report, started = FuzzReport(), time.monotonic()
        database_url = f"sqlite:///{tmp / 'fuzz.db'}"
        upgrade(database_url)
        with live_world(tmp, database_url, extra_settings={"embedding_model": str(tmp / "no-model")}) as world:
            operations = fuzz_schema(world, args.examples, report, ROLES)
        rows.append((f"OpenAPI ({operations} operations x {len(ROLES)} roles)", report, time.monotonic() - started))
        webhook, started = FuzzReport(), time.monotonic()
        (tmp / "tg").mkdir()
        fuzz_telegram_webhook(tmp / "tg", args.webhook, webhook)
        rows.append(("Telegram webhook", webhook, time.monotonic() - started))
    print(f"{'target':45} {'tried':>7} {'held':>7} {'failed':>7} {'seconds':>8}  statuses")
    for name, result, seconds in rows:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
        print(f"{name:45} {result.tried:7} {result.held:7} {len(result.failures):7} {seconds:8.1f}  {statuses}")
        for failure in result.failures[:20]:
            print("   FAILED", failure)
    return 1 if any(result.failures for _, result, _ in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
