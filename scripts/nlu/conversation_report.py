"""Play every scripted conversation (tests/conversations/*.yml) and print the share that pass.

    .venv/bin/python scripts/nlu/conversation_report.py [--only SUBSTRING] [-v]

Starts the real stack (Rasa with the trained model, action server, gateway) on free
ports with its state in a temporary folder, the same way the pytest module does, plays
each conversation as a new customer, and prints one line per failure and the totals per
file. Exit status 0 only when all pass.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT))

from bot.local_stack import make_stack  # noqa: E402
from tests.conversations.runner import Outcome, Player, load_conversations  # noqa: E402


async def play_all(url: str, database_url: str, only: str | None) -> list[Outcome]:
    player = Player(url, database_url)
    conversations = [c for c in load_conversations() if not only or only in c.name]
    return [await player.play(c) for c in conversations]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="play only conversations whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list the ones that pass")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="helpline-conversations-") as state:
        stack = make_stack(Path(state))
        try:
            for name in ("actions", "rasa", "gateway"):
                stack.start(name)
            outcomes = asyncio.run(play_all(stack.url, stack.settings.sqlalchemy_url, args.only))
        finally:
            stack.stop_all()
    total, passed = Counter[str](), Counter[str]()
    for outcome in outcomes:
        total[outcome.conversation.file] += 1
        passed[outcome.conversation.file] += outcome.passed
        if not outcome.passed or args.verbose:
            mark = "PASS" if outcome.passed else "FAIL"
            print(f"{mark} {outcome.conversation.file}: {outcome.conversation.name}")
            for failure in outcome.failures:
                print(f"     {failure}")
    print()
    for file in sorted(total):
        print(f"{file:20} {passed[file]:3}/{total[file]:3}")
    all_passed, count = sum(passed.values()), sum(total.values())
    print(f"{'all':20} {all_passed:3}/{count:3} = {all_passed / max(count, 1):.1%} of the conversations pass")
    return 0 if all_passed == count else 1


if __name__ == "__main__":
    sys.exit(main())
