"""``helpline privacy ...``: erase one customer, or purge conversations past retention.

    helpline privacy erase --customer CONVERSATION_ID [--yes]
    helpline privacy purge --older-than 365d [--yes]
    helpline privacy purge [--yes]        # age from HELPLINE_RETENTION_DAYS

Both print the per-table report. Without ``--yes`` they ask for confirmation on the
terminal (and refuse when there is none, so a script cannot erase by accident). Bad
input or a refused confirmation exits with 2, a database failure with 1.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from staff.auth.audit import Actor
from bot.cli_errors import EXIT_OK, EXIT_REFUSED, database_unusable, report_refusal
from bot.db import make_engine, make_session_factory
from staff.privacy.erase import ErasureReport, conversation_known, erase_customer, purge_older_than
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)


_AGE = re.compile(r"^\s*(\d+)\s*([dwh]?)\s*$", re.I)
_UNIT_HOURS = {"h": 1, "d": 24, "": 24, "w": 24 * 7}
# Conversation ids are 32 hex characters (bot/conversation_ids.py); Telegram and other
# channels use the same form. Anything else is a typo, and refusing it early beats
# reporting "0 rows" for a mistyped id.
_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")


class CliError(Exception):
    pass


def parse_age(value: str) -> timedelta:
    """``365d``, ``52w``, ``12h`` or a bare number of days; at least one hour."""
    match = _AGE.match(value)
    if match is None:
        raise CliError(f"--older-than must look like 365d, 52w or 12h, not {value!r}")
    amount = int(match.group(1))
    if amount <= 0:
        raise CliError("--older-than must be positive")
    return timedelta(hours=amount * _UNIT_HOURS[match.group(2).lower()])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline privacy", description="Erase customer data.")
    sub = parser.add_subparsers(dest="command", required=True)
    erase = sub.add_parser("erase", help="delete everything stored about one conversation")
    erase.add_argument("--customer", required=True, metavar="CONVERSATION_ID")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge = sub.add_parser("purge", help="delete conversations whose last activity is older than AGE")
    purge.add_argument(
        "--older-than", metavar="AGE",
        help="e.g. 365d, 52w, 12h; default: the retention setting (HELPLINE_RETENTION_DAYS)",
    )
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def tracker_file(settings: Settings) -> Path | None:
    """The Rasa tracker's SQLite file (bot/rasa_process.tracker_store_environment)."""
    if settings.database_url.startswith("sqlite"):
        return settings.var_dir / "rasa_tracker.db"
    return None  # PostgreSQL: the tracker's events table is in the app's database


def _retention(settings: Settings) -> timedelta:
    # getattr: the setting is optional so this module works before and after it exists.
    days = getattr(settings, "retention_days", None)
    if not days:
        raise CliError("pass --older-than (e.g. 365d) or set HELPLINE_RETENTION_DAYS")
    return timedelta(days=int(days))


def _operator() -> Actor:
    try:
        return Actor(user_id=None, label=f"cli:{getpass.getuser()}")
    except (KeyError, OSError):  # no user name in some containers
        return Actor(user_id=None, label="cli")


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise CliError("no terminal to confirm on; pass --yes")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("cancelled; nothing was deleted")


def main(argv: list[str], *, settings: Settings | None = None, now: datetime | None = None) -> int:
    """Run ``helpline privacy`` with ``argv`` (the arguments after "privacy")."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse already printed
        return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_REFUSED
    settings = settings or get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    tracker = tracker_file(settings)
    try:
        report: ErasureReport
        if args.command == "erase":
            customer = args.customer.strip().lower()
            if not _CONVERSATION_ID.match(customer):
                raise CliError("--customer must be a conversation id (32 hex characters)")
            with sessions() as session:
                known = conversation_known(session, customer)
            if not known:
                raise CliError("no conversation with that id (already erased?)")
            if not args.yes:
                _confirm(f"Erase every message, ticket and tracker event of {customer}?")
            with sessions.begin() as session:
                report = erase_customer(session, customer, tracker_sqlite_path=tracker, actor=_operator())
        else:
            age = parse_age(args.older_than) if args.older_than else _retention(settings)
            cutoff = (now or datetime.now(timezone.utc)) - age
            if not args.yes:
                _confirm(f"Erase every conversation with no activity since {cutoff:%Y-%m-%d %H:%M} UTC?")
            with sessions.begin() as session:
                report = purge_older_than(session, cutoff, tracker_sqlite_path=tracker, actor=_operator())
        print(report.as_text())
        return EXIT_OK
    except CliError as refused:
        return report_refusal(refused)
    except (SQLAlchemyError, sqlite3.Error, OSError) as failure:
        return database_unusable(failure, "privacy", logger)
    finally:
        engine.dispose()
