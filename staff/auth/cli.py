"""``helpline users ...``: manage console users from the command line.

Passwords are read from standard input (``--password-stdin``) or prompted for twice on
the terminal, never taken from the command line, where they would land in shell history
and in the process list. Refused operations print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from staff.auth.audit import Actor
from staff.auth.models import ROLES
from staff.auth.passwords import PasswordPolicyError, Passwords
from staff.auth.users import (
    DuplicateEmailError,
    UserDirectory,
    UserError,
    UserInfo,
    UserNotFoundError,
)
from bot.cli_errors import EXIT_OK, EXIT_REFUSED, database_unusable, report_refusal
from bot.db import make_engine, make_session_factory
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)



class CliError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline users", description="Manage agent console users.")
    sub = parser.add_subparsers(dest="command", required=True)

    add = sub.add_parser("add", help="create a user")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="display name shown to colleagues")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_add)

    listing = sub.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true", help="one JSON object per user")
    listing.set_defaults(handler=_list)

    role = sub.add_parser("set-role", help="change a user's role (ends their sessions)")
    role.add_argument("--email", required=True)
    role.add_argument("--role", required=True, choices=ROLES)
    role.set_defaults(handler=_set_role)

    for name, active, text in (
        ("deactivate", False, "block a user and end their sessions"),
        ("activate", True, "allow a deactivated user to sign in again"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--email", required=True)
        command.set_defaults(handler=_set_active(active))

    password = sub.add_parser("set-password", help="set a new password (ends their sessions)")
    password.add_argument("--email", required=True)
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.set_defaults(handler=_set_password)
    return parser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CliError("no terminal to prompt on; pipe the password in with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise CliError("the passwords did not match")
    return first


def _operator() -> Actor:
    try:
        return Actor(user_id=None, label=f"cli:{getpass.getuser()}")
    except (KeyError, OSError):  # no user name in some containers
        return Actor(user_id=None, label="cli")


def _describe(user: UserInfo) -> str:
    state = "active" if user.active else "deactivated"
    return f"{user.email} ({user.display_name}), {user.role}, {state}, id {user.id}"


def _add(args: argparse.Namespace, users: UserDirectory) -> str:
    # Refuse a taken or malformed email before asking for a password nobody will use.
    if users.find(args.email) is not None:
        raise DuplicateEmailError(f"a user with email {args.email.strip().lower()} already exists")
    password = _read_password(args.password_stdin)
    return "created " + _describe(users.create(args.email, args.name, args.role, password, _operator()))


def _list(args: argparse.Namespace, users: UserDirectory) -> str:
    rows = users.list()
    if args.json:
        return "\n".join(
            json.dumps(
                {
                    "id": u.id,
                    "email": u.email,
                    "display_name": u.display_name,
                    "role": u.role,
                    "active": u.active,
                    "created_at": u.created_at.isoformat(),
                    "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                }
            )
            for u in rows
        )
    if not rows:
        return "no users yet; add one with: helpline users add --email ... --name ... --role admin"
    table = [("ID", "EMAIL", "NAME", "ROLE", "ACTIVE", "LAST LOGIN")] + [
        (
            str(u.id),
            u.email,
            u.display_name,
            u.role,
            "yes" if u.active else "no",
            u.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_login_at else "never",
        )
        for u in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table
    )


def _set_role(args: argparse.Namespace, users: UserDirectory) -> str:
    return "updated " + _describe(users.set_role(args.email, args.role, _operator()))


def _set_active(active: bool) -> Callable[[argparse.Namespace, UserDirectory], str]:
    def handler(args: argparse.Namespace, users: UserDirectory) -> str:
        return "updated " + _describe(users.set_active(args.email, active, _operator()))

    return handler


def _set_password(args: argparse.Namespace, users: UserDirectory) -> str:
    # Fail on an unknown email before asking for a password nobody will use.
    if users.find(args.email) is None:
        raise UserNotFoundError(f"no user with email {args.email.strip().lower()}")
    password = _read_password(args.password_stdin)
    return "password changed for " + _describe(users.set_password(args.email, password, _operator()))


def main(
    argv: list[str] | None = None, *, settings: Settings | None = None, passwords: Passwords | None = None
) -> int:
    """Run ``helpline users`` with ``argv`` (the arguments after "users"); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as stop:  # --help, or a usage error already printed by argparse
        return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_REFUSED
    settings = settings or get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        users = UserDirectory(make_session_factory(engine), passwords or _passwords_for(settings))
        print(args.handler(args, users))
        return EXIT_OK
    except (UserError, PasswordPolicyError, CliError) as refused:
        return report_refusal(refused)
    except SQLAlchemyError as failure:
        return database_unusable(failure, "users", logger)
    finally:
        engine.dispose()


def _passwords_for(settings: Settings) -> Passwords:
    from staff.auth.config import AuthConfig

    return Passwords(min_length=AuthConfig.from_settings(settings).password_min_length)


if __name__ == "__main__":
    sys.exit(main())
