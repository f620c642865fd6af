"""The families of checks. Each returns a Result: tried / held / failed plus notes."""

from __future__ import annotations

import asyncio
import csv
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.local_stack import PROJECT
from tests.gateway_harness import serve
from tests.reliability.limits import no_chat_limits_env
from tests.reliability.load import CustomerLog, audit, client_order_ok, run_customers
from tests.telegram.fake_bot_api import FakeBotApi

from reliability.infra import DelayProxy, SmallDisk, ThrowawayPostgres, ThrowawayRedis
from bot.local_stack import free_port as free_port_for
from reliability.stack import SupervisedStack


@dataclass
class Result:
    family: str
    tried: int = 0
    held: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    def check(self, ok: bool, note: str) -> None:
        self.tried += 1
        if ok:
            self.held += 1
        else:
            self.failed += 1
        self.notes.append(("held   " if ok else "FAILED ") + note)


# Words that make the bot hand over to a person (request_human, complaints, upset
# customers): a queued conversation is silent by design, which the soak would count as
# unanswered. The soak measures the bot path; escalation has its own tests.
_HANDOVER_WORDS = re.compile(
    r"\b(human|person|agent|speak|talk|complain\w*|manager|someone|representative|call|angry|terrible|"
    r"worst|awful|ridiculous|unacceptable|useless|hate)\b", re.I)


def faq_questions() -> list[str]:
    with (PROJECT / "data" / "faq_eval" / "queries.csv").open(newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)
                if row["faq_id"] and not _HANDOVER_WORDS.search(row["text"])]


def telegram_env(api: FakeBotApi) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url, "TELEGRAM_MODE": "polling"}


async def telegram_chats(api: FakeBotApi, chats: int, messages: int, questions: list[str],
                         answer_timeout: float = 120, think: float = 0.0) -> list[CustomerLog]:
    """Closed-loop Telegram customers through the fake Bot API (polling)."""

    async def one(index: int) -> CustomerLog:
        chat_id = 500_000 + index
        log = CustomerLog(f"t{index}")
        rng = random.Random(index)
        for n in range(messages):
            text_ = f"{rng.choice(questions)} (ref t{index}-{n})"
            before = len(api.sent(chat_id))
            started = time.monotonic()
            api.queue_update(api.text_update(chat_id, text_))
            log.sent.append(text_)
            try:
                await api.wait_for(lambda: len(api.sent(chat_id)) > before, timeout=answer_timeout)
                log.answered.append(text_)
                log.latencies.append(time.monotonic() - started)
            except AssertionError:
                log.unanswered.append(text_)
            await asyncio.sleep(max(1.0, think))  # let the rest of the turn's messages arrive
        return log

    return list(await asyncio.gather(*(one(i) for i in range(chats))))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


# -- 1 Soak + 9 Backup drill under that load ----------------------------------------------

async def soak(customers: int, messages: int, tg_chats: int, database: str, replicas: int | None,
               rss_bound: tuple[float, float], think: float = 0.0) -> tuple[Result, Result]:
    result, drill = Result("1 Soak"), Result("9 Backup (live)")
    questions = faq_questions()
    api = FakeBotApi()
    api_port = free_port_for()
    api.url = f"http://127.0.0.1:{api_port}"
    postgres = redis = None
    if replicas:
        database = "postgres"  # replicas refuse to start without PostgreSQL and Redis
    state = Path(tempfile.mkdtemp(prefix="helpline-soak-"))
    try:
        if database == "postgres" or replicas:
            postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
            postgres.start()
            redis.start()
        async with serve(api.app(), api_port):
            stack = SupervisedStack(state, postgres.url if postgres else None, redis.url if redis else None,
                                    replicas, {**no_chat_limits_env(), **telegram_env(api)})
            env = await asyncio.to_thread(stack.prepare)
            ready = await asyncio.to_thread(stack.start, env)
            result.notes.append(f"stack ready in {ready:.0f} s ({'replicas ' + str(replicas) if replicas else 'one of each'}, {database})")
            database_url = env["DATABASE_URL"]
            try:
                # Warm-up (lazy model loads), then the memory baseline.
                await run_customers(stack.url, 4, 3, lambda c, n: questions[(c * 7 + n) % len(questions)], 120,
                                    prefix="warm")
                before = stack.memory()
                started = time.monotonic()
                web = asyncio.create_task(run_customers(
                    stack.url, customers, messages,
                    lambda c, n: random.Random(c * 1000 + n).choice(questions), answer_timeout=180,
                    start_spread=20.0, pause=think,
                ))
                tg = asyncio.create_task(telegram_chats(api, tg_chats, messages, questions, think=think))
                # Family 9 on the live system: a backup half-way through the load.
                await asyncio.sleep(30)
                from bot.backup import backup, restore, row_counts
                dump = state / ("backup.sqlite3" if database_url.startswith("sqlite") else "backup.dump")
                ids_before = _ids(database_url)
                backed = await asyncio.to_thread(backup, database_url, dump)
                ids_after = _ids(database_url)
                web_logs, tg_logs = await asyncio.gather(web, tg)
                elapsed = time.monotonic() - started
                after = stack.memory()
            finally:
                await asyncio.to_thread(stack.stop)
        # Checks from the clients and the database.
        total = sum(len(log.sent) for log in web_logs)
        answered = sum(len(log.answered) for log in web_logs)
        web_audit = audit(database_url, web_logs)
        tg_audit = audit(database_url, tg_logs, channel="telegram", key="text")
        latencies = [x for log in web_logs for x in log.latencies]
        statuses = _statuses(database_url)
        result.notes.append(f"think time {think:g} s between a customer's messages; inbound statuses {statuses}")
        result.notes.append(f"web: {customers} customers x {messages}: {total} stored, {answered} answered in "
                            f"{elapsed:.0f} s ({total / elapsed:.1f} msg/s), p50 {percentile(latencies, .5):.1f} s "
                            f"p95 {percentile(latencies, .95):.1f} s p99 {percentile(latencies, .99):.1f} s; "
                            f"refused {sum(len(l.refused) for l in web_logs)}")
        result.check(total == customers * messages, f"web: every message acknowledged as stored ({total}/{customers * messages})")
        result.check(not web_audit.missing and web_audit.duplicates_stored == 0,
                     f"web: stored once (missing {len(web_audit.missing)}, duplicates {web_audit.duplicates_stored})")
        result.check(web_audit.answered_twice == 0, f"web: answered once (twice: {web_audit.answered_twice})")
        result.check(not web_audit.not_answered, f"web: every message answered in the database (not: {len(web_audit.not_answered)} "
                     f"{web_audit.not_answered[:3]})")
        result.check(answered == total, f"web: every customer saw an answer to every message ({answered}/{total})")
        result.check(web_audit.out_of_order == 0 and all(client_order_ok(l) for l in web_logs),
                     f"web: in order (database: {web_audit.out_of_order} out of order)")
        tg_total = sum(len(l.sent) for l in tg_logs)
        tg_answered = sum(len(l.answered) for l in tg_logs)
        result.check(tg_audit.stored == tg_total and tg_audit.duplicates_stored == 0,
                     f"telegram: {tg_chats} chats x {messages}: stored once ({tg_audit.stored}/{tg_total})")
        result.check(tg_audit.answered_twice == 0 and not tg_audit.not_answered and tg_answered == tg_total,
                     f"telegram: answered once ({tg_answered}/{tg_total} seen, twice {tg_audit.answered_twice}, "
                     f"not answered in db {len(tg_audit.not_answered)})")
        result.check(tg_audit.out_of_order == 0, f"telegram: in order ({tg_audit.out_of_order} out of order)")
        factor, slack = rss_bound
        for name in sorted(before):
            grew = after.get(name, 0) - before[name]
            bound = max(before[name] * (factor - 1), slack)
            result.check(name in after and grew <= bound,
                         f"memory {name}: {before[name]:.0f} -> {after.get(name, 0):.0f} MB (bound +{bound:.0f} MB)")
        # The drill: restore into a fresh database, find every row of backup start.
        target, cleanup = _fresh_target(database_url, state)
        try:
            await asyncio.to_thread(restore, dump, target)
            restored = _ids(target)
            drill.notes.append(f"backup of the live {database} database under load: {backed.size_bytes} bytes in "
                               f"{backed.seconds:.2f} s; restore {sum(row_counts(target).values())} rows")
            for table in ids_before:
                drill.check(ids_before[table] <= restored[table] <= ids_after[table],
                            f"{table}: {len(ids_before[table])} rows at backup start, {len(restored[table])} restored")
        finally:
            cleanup()
    finally:
        if postgres:
            postgres.stop()
        if redis:
            redis.stop()
        if os.environ.get("RELIABILITY_KEEP"):
            print(f"state kept in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)
    return result, drill


def _statuses(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    from tests.reliability.load import _driver_url

    engine = create_engine(_driver_url(url))
    try:
        with engine.connect() as connection:
            found = {f"{r[0]}/{r[1]}": int(r[2]) for r in connection.execute(text(
                "SELECT channel, status, count(*) FROM messages WHERE direction = 'in' GROUP BY 1, 2"))}
            found["tickets"] = int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
            return found
    finally:
        engine.dispose()


def _ids(url: str) -> dict[str, set[str]]:
    from sqlalchemy import create_engine, text

    from tests.reliability.load import _driver_url

    engine = create_engine(_driver_url(url))
    try:
        with engine.connect() as connection:
            return {t: {str(r[0]) for r in connection.execute(text(f"SELECT id FROM {t}"))}
                    for t in ("conversations", "messages", "tickets", "audit_log")}
    finally:
        engine.dispose()


def _fresh_target(url: str, state: Path) -> tuple[str, Any]:
    if url.startswith("sqlite"):
        return f"sqlite:///{state / 'restored' / 'helpline.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.reliability.load import _driver_url

    base = make_url(_driver_url(url))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "helpline_restored"'))
    admin.dispose()
    return base.set(database="helpline_restored").render_as_string(hide_password=False), lambda: None


# -- 2 Faults -------------------------------------------------------------------------------

_RUNS = iter(range(1, 1000))


async def _load_through_fault(stack_url: str, customers: int, messages: int, questions: list[str],
                              inject: Any, recover: Any, settle_first: int) -> dict[str, Any]:
    """Run closed-loop load; once a quarter of it is answered, inject the fault; measure."""
    live: list[CustomerLog] = []
    logs_task = asyncio.create_task(run_customers(
        stack_url, customers, messages, lambda c, n: random.Random(c * 100 + n).choice(questions),
        answer_timeout=120, pause=0.2, prefix=f"f{next(_RUNS)}", live=live,
    ))
    # The fault lands in the middle of the load, not before or after it.
    deadline = time.monotonic() + 300
    while sum(len(log.answered) for log in live) < customers * messages // 4 and time.monotonic() < deadline:
        if logs_task.done():
            break
        await asyncio.sleep(0.1)
    del settle_first
    fault_at = time.monotonic()
    info = await inject()
    recovered = await recover()
    recover_done = time.monotonic()
    logs = await logs_task
    # Time until customers were answered again: the longest wait of a message sent at
    # or after the fault, until its answer.
    waits = [answered - sent for log in logs for sent, answered in log.gap_answers if answered >= fault_at]
    first_after = min((answered for log in logs for _, answered in log.gap_answers if answered >= fault_at + 0.5),
                      default=None)
    # What customers saw while it lasted: notices, and the commonest bot texts of the window.
    until = recover_done + 5
    from collections import Counter

    window = Counter(text_ for log in logs for at, text_ in log.bot_texts if fault_at <= at <= until)
    notices = sorted({n for log in logs for n in log.notices}) + [
        f"{count}x {text_[:70]!r}" for text_, count in window.most_common(3)]
    return {"logs": logs, "fault_at": fault_at, "info": info, "recovered": recovered,
            "max_wait": max(waits) if waits else None,
            "first_answer_after": (first_after - fault_at) if first_after else None, "notices": notices}


async def faults(customers: int, messages: int, only: set[str] | None) -> Result:
    result = Result("2 Faults")
    questions = faq_questions()
    rows: list[str] = []

    async def judge(name: str, outcome: dict[str, Any], database_url: str) -> None:
        logs = outcome["logs"]
        checked = audit(database_url, logs)
        lost = len(checked.missing) + sum(len(l.unanswered) for l in logs if l.unanswered)
        refused = sum(len(l.refused) for l in logs)
        seen = "; ".join(n[:90] for n in outcome["notices"][:3]) or "no notice"
        first = outcome["first_answer_after"]
        statuses = sorted({status for _, status in checked.not_answered})
        rows.append(f"{name}: lost {len(checked.missing)}, answered twice {checked.answered_twice}, "
                    f"not answered {len(checked.not_answered)} {statuses}, handed to the queue (bot_error) "
                    f"{len(checked.handed_over)}, refused {refused}, client waits >120 s {sum(len(l.unanswered) for l in logs)}, "
                    f"answered again after {first if first is None else round(first, 1)} s, longest wait "
                    f"{outcome['max_wait'] and round(outcome['max_wait'], 1)} s; {outcome['info']}; customer saw: {seen}")
        result.check(not checked.missing and checked.answered_twice == 0 and checked.duplicates_stored == 0
                     and not checked.not_answered and lost == 0, rows[-1])

    def wanted(name: str) -> bool:
        return only is None or name in only

    # Stack A: SQLite on a small tmpfs, Rasa behind a delaying proxy.
    disk = SmallDisk(256)
    state = Path(tempfile.mkdtemp(prefix="helpline-faults-"))
    if any(wanted(n) for n in ("gateway", "rasa", "actions", "slow", "disk")):
        disk.mount()
        try:
            stack = SupervisedStack(state, f"sqlite:///{disk.path / 'helpline.db'}", None, None, {})
            env = await asyncio.to_thread(stack.prepare)
            proxy = DelayProxy(f"http://127.0.0.1:{stack.rasa_port}")
            env.update(no_chat_limits_env())
            env["HELPLINE_RASA_URL"] = proxy.url
            env["HELPLINE_RASA_TIMEOUT_SECONDS"] = "10"
            async with serve(proxy.app(), proxy.port):
                await asyncio.to_thread(stack.start, env)
                database_url = env["DATABASE_URL"]
                for service in ("gateway", "rasa", "actions"):
                    if not wanted(service):
                        continue
                    holder: dict[str, int] = {}

                    async def inject(service: str = service) -> str:
                        holder["pid"] = stack.kill9(service)
                        return f"kill -9 {service} (pid {holder['pid']})"

                    async def recover(service: str = service) -> float | None:
                        return await asyncio.to_thread(stack.wait_service, service, holder["pid"])

                    outcome = await _load_through_fault(stack.url, customers, messages, questions, inject, recover, 15)
                    outcome["info"] += f", supervisor restarted it after {outcome['recovered'] and round(outcome['recovered'], 1)} s"
                    await judge(f"kill -9 {service}", outcome, database_url)
                if wanted("slow"):
                    async def inject_slow() -> str:
                        proxy.delay = 15.0  # the gateway's Rasa timeout is 10 s
                        return "Rasa 15 s slower than the 10 s timeout for 40 s"

                    async def recover_slow() -> None:
                        await asyncio.sleep(40)
                        proxy.delay = 0.0

                    await judge("Rasa slower than the timeout",
                                await _load_through_fault(stack.url, customers, messages, questions,
                                                          inject_slow, recover_slow, 10), database_url)
                if wanted("disk"):
                    async def inject_disk() -> str:
                        await asyncio.to_thread(disk.fill)
                        return "SQLite's file system full for 30 s"

                    async def recover_disk() -> None:
                        await asyncio.sleep(30)
                        disk.free()

                    await judge("disk full (SQLite)",
                                await _load_through_fault(stack.url, customers, messages, questions,
                                                          inject_disk, recover_disk, 10), database_url)
                await asyncio.to_thread(stack.stop)
        finally:
            disk.free()
            disk.unmount()
            shutil.rmtree(state, ignore_errors=True)

    # Stack B: throwaway PostgreSQL and Redis (Rasa's lock store).
    if wanted("postgres") or wanted("redis"):
        postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
        state = Path(tempfile.mkdtemp(prefix="helpline-faults-pg-"))
        try:
            postgres.start()
            redis.start()
            stack = SupervisedStack(state, postgres.url, redis.url, None, no_chat_limits_env())
            env = await asyncio.to_thread(stack.prepare)
            await asyncio.to_thread(stack.start, env)
            database_url = env["DATABASE_URL"]
            for name, server in (("postgres", postgres), ("redis", redis)):
                if not wanted(name):
                    continue

                async def inject_restart(server: Any = server, name: str = name) -> str:
                    started = time.monotonic()
                    await asyncio.to_thread(server.restart)
                    return f"{name} restarted ({time.monotonic() - started:.1f} s down)"

                async def nothing() -> None:
                    return None

                await judge(f"{name} restarted", await _load_through_fault(
                    stack.url, customers, messages, questions, inject_restart, nothing, 15), database_url)
            await asyncio.to_thread(stack.stop)
        finally:
            postgres.stop()
            redis.stop()
            shutil.rmtree(state, ignore_errors=True)
    return result


# -- 3 Telegram, 4 fuzz, 9 drill: the suite's tests, run as they are -------------------------

def pytest_family(name: str, paths: list[str], extra_env: dict[str, str] | None = None) -> Result:
    import json
    import os

    result = Result(name)
    report = Path(tempfile.mkdtemp()) / "report.xml"
    env = {**os.environ, **(extra_env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )
    import xml.etree.ElementTree as ET

    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        failed = case.find("failure") is not None or case.find("error") is not None
        result.check(not failed, f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}")
    result.notes.append(f"pytest exit {completed.returncode}: {completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ''}")
    del json
    return result


def pii_family() -> Result:
    from staff.privacy.redaction import redact
    from tests.reliability.pii_corpus import evaluate

    result = Result("8 PII")
    for seed in (20261206, 1, 2, 3):
        report = evaluate(redact, seed)
        result.tried += report.positives + report.negatives
        result.held += report.caught + report.negatives_untouched
        result.failed += len(report.misses) + len(report.false_positives)
        result.notes.append(f"seed {seed}: " + " | ".join(report.lines()))
        for case, out in report.misses[:3]:
            result.notes.append(f"  missed {case.kind} {case.locale}: {case.value!r} -> {out!r}")
    return result
