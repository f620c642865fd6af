"""`helpline users ...` through staff.auth.cli.main, on SQLite and PostgreSQL."""

import io
import json
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.cli import main
from staff.auth.models import AuditEntry
from staff.auth.passwords import Passwords
from staff.auth.users import UserDirectory
from bot.settings import Settings
from tests.staff.auth.conftest import PASSWORD, fast_hasher


@pytest.fixture
def users_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the CLI like a shell would: argv, a password on stdin, captured output."""

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv), settings=settings, passwords=Passwords(hasher=fast_hasher()))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_add_then_list_then_sign_in(users_cli, session_factory: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    code, out, err = users_cli(
        "add",
        "--email",
        "Ann@Example.com",
        "--name",
        "Ann Agent",
        "--role",
        "agent",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert "created ann@example.com" in out
    code, out, _ = users_cli("list")
    assert code == 0 and "ann@example.com" in out and "Ann Agent" in out and "agent" in out
    code, out, _ = users_cli("list", "--json")
    assert json.loads(out.strip())["email"] == "ann@example.com"
    directory = UserDirectory(session_factory, Passwords(hasher=fast_hasher()))
    assert directory.check_password("ann@example.com", PASSWORD, None).user is not None


def test_duplicate_email_is_a_clear_error(users_cli) -> None:  # type: ignore[no-untyped-def]
    args = ("add", "--email", "ann@example.com", "--name", "Ann", "--role", "agent", "--password-stdin")
    assert users_cli(*args, stdin=PASSWORD)[0] == 0
    code, out, err = users_cli(*args[:2], "ANN@example.com", *args[3:], stdin=PASSWORD)
    assert code == 2
    assert err.strip() == "error: a user with email ann@example.com already exists"
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (
            ("add", "--email", "a@example.com", "--name", "A", "--role", "boss", "--password-stdin"),
            PASSWORD,
            "invalid choice: 'boss'",
        ),
        (
            ("add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--password-stdin"),
            "short\n",
            "at least 12 characters",
        ),
        (("add", "--email", "a@example.com", "--name", "A", "--role", "agent"), PASSWORD, "--password-stdin"),
        (
            ("add", "--email", "not-an-email", "--name", "A", "--role", "agent", "--password-stdin"),
            PASSWORD,
            "not a valid email",
        ),
        (
            ("add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--password-stdin"),
            "",
            "no password on standard input",
        ),
        (("deactivate", "--email", "ghost@example.com"), "", "no user with email ghost@example.com"),
        (("set-role", "--email", "ghost@example.com", "--role", "admin"), "", "no user with email"),
        (
            ("set-password", "--email", "ghost@example.com", "--password-stdin"),
            PASSWORD,
            "no user with email",
        ),
        (("frobnicate",), "", "invalid choice: 'frobnicate'"),
    ],
)
def test_refusals_exit_2_without_traceback(
    users_cli, argv: tuple[str, ...], stdin: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    code, out, err = users_cli(*argv, stdin=stdin)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err
    assert users_cli("list")[1].startswith("no users yet")


def test_set_role_deactivate_and_set_password(users_cli, session_factory: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    users_cli(
        "add",
        "--email",
        "root@example.com",
        "--name",
        "Root",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )
    users_cli(
        "add",
        "--email",
        "ann@example.com",
        "--name",
        "Ann",
        "--role",
        "agent",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert users_cli("set-role", "--email", "ann@example.com", "--role", "supervisor")[0] == 0
    code, out, _ = users_cli(
        "set-password", "--email", "ann@example.com", "--password-stdin", stdin="a brand new passphrase\n"
    )
    assert code == 0 and "password changed" in out
    assert users_cli("deactivate", "--email", "ann@example.com")[0] == 0
    code, _, err = users_cli("deactivate", "--email", "root@example.com")
    assert code == 2 and "last active admin" in err
    directory = UserDirectory(session_factory, Passwords(hasher=fast_hasher()))
    ann = directory.find("ann@example.com")
    assert ann is not None and ann.role == "supervisor" and not ann.active
    assert users_cli("activate", "--email", "ann@example.com")[0] == 0
    assert directory.check_password("ann@example.com", "a brand new passphrase", None).user is not None
    with session_factory() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("user.%"))).all()
    assert {row.actor_label.split(":")[0] for row in rows} == {"cli"}
    assert [row.action for row in rows] == [
        "user.create",
        "user.create",
        "user.set_role",
        "user.set_password",
        "user.deactivate",
        "user.activate",
    ]


def test_unmigrated_database_is_reported_not_raised(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    code = main(["list"], settings=settings)
    _, err = capsys.readouterr()
    assert code == 1 and "helpline migrate" in err and "Traceback" not in err


def test_help_exits_zero(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--help"]) == 0
    assert "set-password" in capsys.readouterr().out
