import threading

import pytest
from argon2 import PasswordHasher

from staff.auth.passwords import MAX_LENGTH, PasswordPolicyError, Passwords
from tests.staff.auth.conftest import fast_hasher


def test_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    passwords = Passwords(hasher=fast_hasher())
    stored = passwords.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert passwords.verify(stored, "correct horse battery staple")
    assert not passwords.verify(stored, "correct horse battery stapler")


def test_default_parameters_are_memory_hard() -> None:
    stored = Passwords().hash("a long enough password")
    # RFC 9106 low-memory profile: 64 MiB, 3 passes.
    assert "$m=65536,t=3," in stored


@pytest.mark.parametrize("bad", ["short", " " * 20, "x" * (MAX_LENGTH + 1)])
def test_policy_refuses_short_blank_and_huge_passwords(bad: str) -> None:
    with pytest.raises(PasswordPolicyError) as refused:
        Passwords(min_length=12, hasher=fast_hasher()).hash(bad)
    assert bad.strip() == "" or bad not in str(refused.value)


def test_minimum_length_is_configurable() -> None:
    Passwords(min_length=8, hasher=fast_hasher()).hash("eight888")
    with pytest.raises(PasswordPolicyError):
        Passwords(min_length=9, hasher=fast_hasher()).hash("eight888")


def test_needs_rehash_when_parameters_change() -> None:
    old = Passwords(hasher=fast_hasher())
    stored = old.hash("correct horse battery staple")
    assert not old.needs_rehash(stored)
    stronger = Passwords(hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, "correct horse battery staple")  # old hashes still verify


def test_corrupt_hash_is_a_failed_login_not_a_crash() -> None:
    passwords = Passwords(hasher=fast_hasher())
    assert not passwords.verify("not-a-hash", "whatever password")
    assert passwords.needs_rehash("not-a-hash")


async def test_async_hashing_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    class Spy(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            seen.append(threading.get_ident())
            return super().hash(password, salt=salt)

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            seen.append(threading.get_ident())
            return super().verify(hash, password)

    passwords = Passwords(hasher=Spy(time_cost=1, memory_cost=1024, parallelism=1))
    stored = await passwords.hash_async("correct horse battery staple")
    assert await passwords.verify_async(stored, "correct horse battery staple")
    assert len(seen) == 2 and loop_thread not in seen
