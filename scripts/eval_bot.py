#!/usr/bin/env python3
"""End-to-end evaluation of the whole bot on held-out customer wording.

Starts the real stack (Rasa server, action server, gateway; bot/local_stack.py, the same
processes as `helpline run`, on free loopback ports with a throwaway database), sends every
held-out message as the first message of a fresh web-chat conversation over socket.io, and
judges the reply by what the customer sees: the text and the buttons.

    answered right     an FAQ answer (its feedback buttons name the FAQ) for the expected FAQ
    answered wrong     an FAQ answer for another FAQ, or any answer to an out-of-scope message
    suggested, right   "did you mean" buttons with the expected FAQ among them
    suggested, other   buttons without it (for out-of-scope messages: buttons at all)
    escalated          the handover to a person (a ticket was opened)
    complaint form     the complaint form asked its first question
    fell back          the rephrase message, or an offer of a person instead of an answer
    other              anything else (small talk, "Okay", ...), listed with --show-other

Inputs (CSV): `text,faq_id` files (empty faq_id = out of scope; the FAQ evaluation format)
and `text,expected` files whose expected outcome is escalation (complaint / request_human).

    .venv/bin/python scripts/eval_bot.py                       # the demo's held-out sets
    .venv/bin/python scripts/eval_bot.py --queries data/faq_eval/queries.csv --limit 50
    .venv/bin/python scripts/eval_bot.py --url http://127.0.0.1:8000   # a stack already running

Prints one table row per set, then one JSON object (the last line).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_QUERIES = (PROJECT / "data/faq_eval/queries.csv", PROJECT / "data/faq_eval/bitext_heldout.csv")
DEFAULT_ESCALATION = (PROJECT / "data/faq_eval/bitext_escalation.csv",)

ANSWERED_RIGHT = "answered_right"
ANSWERED_WRONG = "answered_wrong"
SUGGESTED_RIGHT = "suggested_right"
SUGGESTED_OTHER = "suggested_other"
ESCALATED = "escalated"
COMPLAINT_FORM = "complaint_form"
FELL_BACK = "fell_back"
OTHER = "other"
OUTCOMES = (ANSWERED_RIGHT, ANSWERED_WRONG, SUGGESTED_RIGHT, SUGGESTED_OTHER, ESCALATED, COMPLAINT_FORM,
            FELL_BACK, OTHER)

# What the customer reads in the bot's messages (actions/escalation.py, actions/faq.py).
HANDOVER_MARK = "passing this to a colleague"
COMPLAINT_FORM_MARK = "what went wrong"
FALLBACK_MARKS = ("could you rephrase", "don't have an answer", "talk to a person")


@dataclass(frozen=True)
class Probe:
    text: str
    expected: str | None  # an FAQ id, "escalate", or None (out of scope)
    source: str


@dataclass
class Reply:
    """Everything the customer saw after one message."""

    texts: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _payload_faq_id(payload: str) -> str | None:
    if "{" not in payload:
        return None
    try:
        return json.loads(payload[payload.index("{"):]).get("faq_id")
    except (ValueError, AttributeError):
        return None


def judge(probe: Probe, reply: Reply) -> tuple[str, str | None]:
    """(outcome, FAQ answered or None) from the texts and button payloads the customer got."""
    answered = next((_payload_faq_id(p) for p in reply.payloads if p.startswith("/feedback")), None)
    offered = [i for i in (_payload_faq_id(p) for p in reply.payloads if p.startswith("/faq_select")) if i]
    text = " ".join(reply.texts).lower()
    if answered:
        return (ANSWERED_RIGHT if answered == probe.expected else ANSWERED_WRONG), answered
    if offered:
        return (SUGGESTED_RIGHT if probe.expected in offered else SUGGESTED_OTHER), None
    if HANDOVER_MARK in text:
        return ESCALATED, None
    if COMPLAINT_FORM_MARK in text:
        return COMPLAINT_FORM, None
    if any(mark in text for mark in FALLBACK_MARKS):
        return FELL_BACK, None
    return OTHER, None


def read_probes(queries: Iterable[Path], escalation: Iterable[Path], limit: int | None) -> list[Probe]:
    probes: list[Probe] = []
    for path in queries:
        with path.open(encoding="utf-8") as fh:
            rows = [Probe(r["text"], r["faq_id"].strip() or None, path.name) for r in csv.DictReader(fh)]
        probes += rows[:limit]
    for path in escalation:
        with path.open(encoding="utf-8") as fh:
            rows = [Probe(r["text"], "escalate", path.name) for r in csv.DictReader(fh)]
        probes += rows[:limit]
    return probes


async def ask(url: str, text: str, *, quiet: float = 1.0, timeout: float = 60.0) -> Reply:
    """One fresh conversation, one message; collects bot messages until `quiet` s pass without one."""
    import socketio

    reply = Reply()
    arrived: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    confirmed = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False)
    client.on("session_confirm", lambda *_: confirmed.set())
    client.on("bot_uttered", lambda data=None: arrived.put_nowait(data or {}))
    started = time.perf_counter()
    await client.connect(url, transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed.wait(), timeout)
        await client.call("user_uttered", {"message": text}, timeout=timeout)
        wait = timeout
        while True:
            try:
                message = await asyncio.wait_for(arrived.get(), wait)
            except asyncio.TimeoutError:
                break
            reply.texts.append(str(message.get("text") or ""))
            reply.payloads += [str(b.get("payload") or "") for b in message.get("quick_replies") or []]
            reply.seconds = time.perf_counter() - started
            wait = quiet
    finally:
        await client.disconnect()
    return reply


async def run_probes(url: str, probes: list[Probe], *, concurrency: int = 4, progress: bool = True) -> list[tuple[Probe, Reply, str, str | None]]:
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(probe: Probe) -> tuple[Probe, Reply, str, str | None]:
        nonlocal done
        async with gate:
            reply = await ask(url, probe.text)
        outcome, answered = judge(probe, reply)
        done += 1
        if progress and done % 25 == 0:
            print(f"  {done}/{len(probes)}", file=sys.stderr, flush=True)
        return probe, reply, outcome, answered

    return list(await asyncio.gather(*(one(p) for p in probes)))


def summarise(results: list[tuple[Probe, Reply, str, str | None]]) -> dict[str, dict[str, Any]]:
    """Per source file, split into in-scope / out-of-scope / escalation: count and share of each outcome."""
    groups: dict[str, list[str]] = {}
    for probe, _, outcome, _ in results:
        kind = "escalation" if probe.expected == "escalate" else "in_scope" if probe.expected else "out_of_scope"
        groups.setdefault(f"{probe.source} {kind}", []).append(outcome)
    summary: dict[str, dict[str, Any]] = {}
    for name, outcomes in sorted(groups.items()):
        counts = Counter(outcomes)
        summary[name] = {"n": len(outcomes), **{o: round(counts[o] / len(outcomes), 4) for o in OUTCOMES}}
    return summary


def print_table(summary: dict[str, dict[str, Any]]) -> None:
    heads = ("answered right", "answered wrong", "suggested, right", "suggested, other", "escalated",
             "complaint form", "fell back", "other")
    print("| set | n | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 2) + "|")
    for name, row in summary.items():
        cells = " | ".join(f"{100 * row[o]:.1f}%" for o in OUTCOMES)
        print(f"| {name} | {row['n']} | {cells} |")


async def evaluate(url: str, probes: list[Probe], concurrency: int, progress: bool) -> list[tuple[Probe, Reply, str, str | None]]:
    return await run_probes(url, probes, concurrency=concurrency, progress=progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, action="append", help="text,faq_id CSV (repeatable)")
    parser.add_argument("--escalation", type=Path, action="append", help="text,expected CSV of messages to escalate")
    parser.add_argument("--limit", type=int, help="first N rows of each file")
    parser.add_argument("--url", help="gateway of a running stack (default: start one)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rows", type=Path, help="write every message with its outcome to this CSV")
    parser.add_argument("--show-other", action="store_true", help="print the replies judged 'other'")
    args = parser.parse_args(argv)
    probes = read_probes(args.queries or DEFAULT_QUERIES,
                         args.escalation if args.escalation is not None else ([] if args.queries else DEFAULT_ESCALATION),
                         args.limit)
    if args.url:
        results = asyncio.run(evaluate(args.url, probes, args.concurrency, True))
    else:
        from bot.local_stack import make_stack

        # Every message opens a new conversation from 127.0.0.1: lift the per-IP limit on
        # new conversations for this throwaway stack (make_stack passes the environment on).
        os.environ["HELPLINE_CHAT_NEW_CONVERSATIONS_PER_IP"] = "0"
        with tempfile.TemporaryDirectory(prefix="helpline-eval-") as state:
            stack = make_stack(Path(state))
            try:
                for name in ("actions", "rasa", "gateway"):
                    stack.start(name)
                print(f"stack up at {stack.url}; {len(probes)} messages", file=sys.stderr, flush=True)
                results = asyncio.run(evaluate(stack.url, probes, args.concurrency, True))
            finally:
                stack.stop_all()
    if args.rows:
        with args.rows.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["source", "text", "expected", "outcome", "answered", "reply", "seconds"])
            for probe, reply, outcome, answered in results:
                writer.writerow([probe.source, probe.text, probe.expected or "", outcome, answered or "",
                                 " / ".join(reply.texts)[:300], round(reply.seconds, 3)])
    if args.show_other:
        for probe, reply, outcome, _ in results:
            if outcome == OTHER:
                print(f"other: {probe.text!r} -> {' / '.join(reply.texts)[:160]!r}")
    summary = summarise(results)
    print_table(summary)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
