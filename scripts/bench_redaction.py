"""Print how long redaction takes for the lines one review page shows, and more.

    .venv/bin/python scripts/bench_redaction.py [--lines 10000]

A benchmark, not a test: timing assertions fail on busy machines and prove nothing on
quiet ones (docs/privacy.md quotes the figures).
"""

from __future__ import annotations

import argparse
import statistics
import time

from staff.privacy.redaction import redact

SAMPLES = (
    "Please refund to jane.doe@example.com, card 4111 1111 1111 1111",
    "Call me on +44 20 7946 0958 about order BC12345678",
    "IBAN GB82 WEST 1234 5698 7654 32, ticket HL-1001, total 12.50",
    "Where is my parcel? Tracking 1Z999AA10123456784 since 2026-11-02",
    "No personal data in this line at all, just a question about returns",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines = [SAMPLES[i % len(SAMPLES)] for i in range(args.lines)]
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for line in lines:
            redact(line)
        runs.append(time.perf_counter() - started)
    print(f"{args.lines} lines: median {statistics.median(runs) * 1000:.0f} ms, "
          f"best {min(runs) * 1000:.0f} ms over {args.repeat} runs "
          f"({statistics.median(runs) / args.lines * 1e6:.1f} µs per line)")


if __name__ == "__main__":
    main()
