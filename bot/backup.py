"""Online backup and restore of Helpline's database (SQLite or PostgreSQL).

    python -m bot.backup create  [--database-url URL] --output FILE
    python -m bot.backup restore --input FILE --database-url URL
    python -m bot.backup check   [--database-url URL]      # row counts per table

Both work while the gateway writes:

- SQLite: the sqlite3 online backup API (what the ``.backup`` shell command uses) copies
  a consistent snapshot page by page under WAL, then ``PRAGMA integrity_check`` runs on
  the copy. Restore copies the backup into a new file; an existing target is refused
  (stop the gateway and move the old file away first).
- PostgreSQL: ``pg_dump --format=custom`` (one repeatable-read snapshot) and
  ``pg_restore --exit-on-error --no-owner`` into an EMPTY database, refused otherwise.
  pg_dump refuses a server newer than itself, so the client and server majors are
  compared first and the mismatch is reported in plain words.

docs/reliability.md (family 9) has the drill and its measured result.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    seconds: float
    size_bytes: int


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"not a SQLite file database: {url}")
    return Path(database)


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` as pg_dump/psql understand it (no driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if match is None:
        raise BackupError(f"cannot read a version from {version_text!r}")
    return int(match.group(1))


def postgres_versions(url: str) -> tuple[int, int]:
    """(pg_dump major, server major)."""
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    client = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True).stdout
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            server = str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()
    # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    client_version = re.search(r"\)\s*(\d+)", client)
    return _major(client_version.group(1) if client_version else client), _major(server)


def backup(database_url: str, output: Path) -> BackupResult:
    """Write an online-consistent backup of ``database_url`` to ``output``."""
    started = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    if _is_sqlite(database_url):
        source_path = _sqlite_path(database_url)
        if not source_path.exists():
            raise BackupError(f"no database at {source_path}")
        partial = output.with_name(output.name + ".partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(partial)
        try:
            # All pages in one step: a consistent snapshot even while the gateway writes
            # (the copy holds a read transaction; WAL lets writers go on).
            source.backup(target)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            source.close()
        if check != "ok":
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed its integrity check: {check}")
        partial.replace(output)
    else:
        client, server = postgres_versions(database_url)
        if client < server:
            raise BackupError(
                f"pg_dump {client} cannot dump a PostgreSQL {server} server: install "
                f"postgresql-client-{server} or newer"
            )
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(output),
             "--dbname", libpq_url(database_url)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return BackupResult(output, time.perf_counter() - started, output.stat().st_size)


def restore(backup_file: Path, database_url: str) -> float:
    """Restore ``backup_file`` into a new SQLite file or an empty PostgreSQL database."""
    started = time.perf_counter()
    if not backup_file.exists():
        raise BackupError(f"no backup at {backup_file}")
    if _is_sqlite(database_url):
        target_path = _sqlite_path(database_url)
        if target_path.exists():
            raise BackupError(
                f"{target_path} exists: restore into a new file (stop the gateway, move "
                "the old database away, then restore)"
            )
        target_path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        partial = target_path.with_name(target_path.name + ".partial")
        partial.unlink(missing_ok=True)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            source.close()
        if check != "ok":
            raise BackupError(f"the restored database failed its integrity check: {check}")
        partial.replace(target_path)
        return time.perf_counter() - started
    engine = create_engine(database_url)
    try:
        existing = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if existing:
        raise BackupError(
            f"the target database is not empty ({len(existing)} tables): restore into a "
            "new database (createdb NAME)"
        )
    result = subprocess.run(
        ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", libpq_url(database_url),
         str(backup_file)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return time.perf_counter() - started


def row_counts(database_url: str) -> dict[str, int]:
    """Rows per table: what ``check`` prints after a restore."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            return {
                name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
                for name in names
            }
    finally:
        engine.dispose()


def _default_url() -> str:
    from bot.settings import Settings

    return Settings().database_url


def main(argv: list[str] | None = None, prog: str = "python -m bot.backup") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write a backup while the system runs")
    create.add_argument("--database-url", help="default: the configured DATABASE_URL")
    create.add_argument("--output", type=Path, required=True)
    restore_cmd = commands.add_parser("restore", help="restore into a new file or an empty database")
    restore_cmd.add_argument("--input", type=Path, required=True)
    restore_cmd.add_argument("--database-url", required=True)
    check = commands.add_parser("check", help="print row counts per table")
    check.add_argument("--database-url")
    args = parser.parse_args(argv)
    url = args.database_url or _default_url()
    try:
        if args.command == "create":
            result = backup(url, args.output)
            print(f"backup written: {result.path} ({result.size_bytes} bytes, {result.seconds:.2f} s)")
        elif args.command == "restore":
            seconds = restore(args.input, url)
            print(f"restored {args.input} in {seconds:.2f} s")
            for name, count in row_counts(url).items():
                print(f"  {name:<24} {count}")
        else:
            for name, count in row_counts(url).items():
                print(f"{name:<24} {count}")
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
