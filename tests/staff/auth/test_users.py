"""The user directory on SQLite and PostgreSQL: accounts, rehash, constant-time misses."""

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from staff.auth.models import AuditEntry, User
from staff.auth.passwords import Passwords
from staff.auth.users import (
    DuplicateEmailError,
    InvalidEmailError,
    LastAdminError,
    UnknownRoleError,
    UserDirectory,
)
from tests.staff.auth.conftest import PASSWORD, TEST_ACTOR, fast_hasher


@pytest.fixture
def directory(session_factory: sessionmaker[Session], passwords: Passwords) -> UserDirectory:
    return UserDirectory(session_factory, passwords)


def audit_rows(session_factory: sessionmaker[Session]) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_emails_are_unique_whatever_their_case(
    directory: UserDirectory, session_factory: sessionmaker[Session]
) -> None:
    created = directory.create("  Ann@Example.COM ", "Ann  Agent", "agent", PASSWORD, TEST_ACTOR)
    assert created.email == "ann@example.com" and created.display_name == "Ann Agent"
    with pytest.raises(DuplicateEmailError):
        directory.create("ANN@example.com", "Other", "agent", PASSWORD, TEST_ACTOR)
    # The database refuses it too, for writers that bypass the directory.
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.add(User(email="ANN@EXAMPLE.COM", display_name="x", role="agent", password_hash="h"))
    assert directory.find("ann@EXAMPLE.com") == created


def test_bad_role_and_email_are_refused(directory: UserDirectory) -> None:
    with pytest.raises(UnknownRoleError):
        directory.create("a@example.com", "A", "boss", PASSWORD, TEST_ACTOR)
    with pytest.raises(InvalidEmailError):
        directory.create("not an email", "A", "agent", PASSWORD, TEST_ACTOR)
    assert directory.list() == []


def test_login_rehashes_when_parameters_changed(session_factory: sessionmaker[Session]) -> None:
    old = UserDirectory(session_factory, Passwords(hasher=fast_hasher()))
    user = old.create("ann@example.com", "Ann", "agent", PASSWORD, TEST_ACTOR)
    with session_factory() as session:
        before = session.get(User, user.id).password_hash  # type: ignore[union-attr]
    stronger = UserDirectory(
        session_factory, Passwords(hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    )
    outcome = stronger.check_password("ann@example.com", PASSWORD, "198.51.100.1")
    assert outcome.user is not None and outcome.user.last_login_at is not None
    with session_factory() as session:
        after = session.get(User, user.id).password_hash  # type: ignore[union-attr]
    assert after != before and "$m=2048,t=2,p=1$" in after
    assert stronger.check_password("ann@example.com", PASSWORD, None).user is not None
    login = [row for row in audit_rows(session_factory) if row.action == "auth.login"]
    assert login[0].details == {"rehashed": True} and login[0].ip == "198.51.100.1"
    assert login[1].details is None  # already current the second time


def test_unknown_and_inactive_users_cost_a_real_verification(session_factory: sessionmaker[Session]) -> None:
    verifications: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            verifications.append("verify")
            return super().verify(hash, password)

    directory = UserDirectory(
        session_factory, Passwords(hasher=Counting(time_cost=1, memory_cost=1024, parallelism=1))
    )
    directory.create("ann@example.com", "Ann", "agent", PASSWORD, TEST_ACTOR)
    directory.create("bob@example.com", "Bob", "admin", PASSWORD, TEST_ACTOR)
    directory.set_active("ann@example.com", False, TEST_ACTOR)
    outcomes = [
        directory.check_password("nobody@example.com", PASSWORD, None),
        directory.check_password("ann@example.com", PASSWORD, None),
        directory.check_password("bob@example.com", "wrong password!!", None),
    ]
    assert [o.failure for o in outcomes] == ["unknown_user", "inactive", "bad_password"]
    assert [o.user for o in outcomes] == [None, None, None]
    assert len(verifications) == 3  # one argon2 verification each, found or not
    failures = [row for row in audit_rows(session_factory) if row.action == "auth.login_failed"]
    assert [(row.actor_label, row.details) for row in failures] == [
        ("nobody@example.com", {"reason": "unknown_user"}),
        ("ann@example.com", {"reason": "inactive"}),
        ("bob@example.com", {"reason": "bad_password"}),
    ]


def test_changes_end_sessions_and_are_audited(
    directory: UserDirectory, session_factory: sessionmaker[Session]
) -> None:
    admin = directory.create("root@example.com", "Root", "admin", PASSWORD, TEST_ACTOR)
    agent = directory.create("ann@example.com", "Ann", "agent", PASSWORD, TEST_ACTOR)
    assert directory.session_user(agent.id, agent.session_version) is not None
    promoted = directory.set_role(agent.id, "supervisor", TEST_ACTOR)
    assert promoted.role == "supervisor" and promoted.session_version == agent.session_version + 1
    assert directory.session_user(agent.id, agent.session_version) is None
    changed = directory.set_password("ann@example.com", "another long password", TEST_ACTOR)
    assert changed.session_version == promoted.session_version + 1
    assert directory.check_password("ann@example.com", PASSWORD, None).user is None
    assert directory.check_password("ann@example.com", "another long password", None).user is not None
    gone = directory.set_active(agent.id, False, TEST_ACTOR)
    assert directory.session_user(agent.id, gone.session_version) is None  # inactive: no session at all
    actions = [row.action for row in audit_rows(session_factory)]
    assert actions[:2] == ["user.create", "user.create"]
    assert {"user.set_role", "user.set_password", "user.deactivate"} <= set(actions)
    assert admin.role == "admin"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(directory: UserDirectory) -> None:
    first = directory.create("root@example.com", "Root", "admin", PASSWORD, TEST_ACTOR)
    with pytest.raises(LastAdminError):
        directory.set_role(first.id, "agent", TEST_ACTOR)
    with pytest.raises(LastAdminError):
        directory.set_active(first.id, False, TEST_ACTOR)
    directory.create("second@example.com", "Second", "admin", PASSWORD, TEST_ACTOR)
    assert directory.set_active(first.id, False, TEST_ACTOR).active is False


def test_audit_details_survive_the_json_column(session_factory: sessionmaker[Session]) -> None:
    from staff.auth.audit import record

    with session_factory.begin() as session:
        record(
            session,
            "ticket.claim",
            target_type="ticket",
            target_id=42,
            details={"queue": "billing", "password": "leak?"},
            ip="2001:db8::1",
        )
    with session_factory() as session:
        row = session.scalars(select(AuditEntry)).one()
        assert row.details == {"queue": "billing", "password": "[redacted]"}
        assert row.target_id == "42" and row.actor_label == "anonymous" and row.at.tzinfo is not None
        assert session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
