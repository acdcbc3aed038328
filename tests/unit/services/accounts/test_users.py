from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.services.accounts import password_reset, users
from wheelyard.services.accounts.passwords import Passwords, Verification


def test_create_user_hashes_and_lowercases(db: Session, passwords: Passwords) -> None:
    user = users.create_user(
        db,
        passwords,
        name=" Ada ",
        email=" Ada@Example.COM ",
        password="secret words",
        email_verified=False,
    )
    assert user.name == "Ada"
    assert user.email_verified is False
    assert user.email == "ada@example.com"
    assert user.hashed_password is not None and user.hashed_password.startswith("$argon2id$")


def test_create_user_refuses_an_email_in_use_in_any_case(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    with pytest.raises(users.AccountError, match="already exists"):
        users.create_user(
            db, passwords, name="A", email="ADA@example.com", password="x" * 8, email_verified=True
        )


def test_authenticate_sets_last_login(db: Session, passwords: Passwords, make: Factory) -> None:
    user = make.user(email="ada@example.com")
    assert users.authenticate(db, passwords, "Ada@example.com", PASSWORD) is user
    assert user.last_login is not None


def test_authenticate_refuses_wrong_password_unknown_email_and_no_password(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    make.user(email="imported@example.com", password=None)
    assert users.authenticate(db, passwords, "ada@example.com", "wrong") is None
    assert users.authenticate(db, passwords, "nobody@example.com", PASSWORD) is None
    assert users.authenticate(db, passwords, "imported@example.com", "") is None


def test_active_user_ignores_missing_and_inactive_accounts(db: Session, make: Factory) -> None:
    user = make.user()
    assert users.active_user(db, user.id) is user
    assert users.active_user(db, user.id + 1000) is None
    user.is_active = False
    assert users.active_user(db, user.id) is None


def test_create_user_losing_a_race_for_the_email_is_an_account_error(
    db: Session, passwords: Passwords, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make.user(email="ada@example.com")
    # As if another request inserted the row after this one checked for it.
    monkeypatch.setattr(users, "find_user_by_email", lambda _db, _email: None)
    with pytest.raises(users.AccountError, match="already exists"):
        users.create_user(
            db, passwords, name="A", email="ada@example.com", password="x" * 8, email_verified=True
        )
    # The caller's transaction is still usable.
    assert db.get(type(first), first.id) is first
    assert users.create_user(
        db, passwords, name="B", email="b@example.com", password=None, email_verified=False
    ).id


def test_names_by_id(db: Session, make: Factory) -> None:
    ada, bob = make.user(name="Ada"), make.user(name="Bob")
    assert users.names_by_id(db, [ada.id, bob.id, None, ada.id]) == {ada.id: "Ada", bob.id: "Bob"}
    assert users.names_by_id(db, [None]) == {}


class CountingHasher:
    """Stands in for argon2's PasswordHasher, recording each hash it makes."""

    def __init__(self, inner: Any, calls: list[str]) -> None:
        self.inner, self.calls = inner, calls

    def hash(self, password: str) -> str:
        self.calls.append("argon2 hash")
        return str(self.inner.hash(password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CountingPasswords(Passwords):
    """Passwords that record the hashes they check and the hashing argon2 does."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024)
        self.calls: list[str] = []
        self._hasher = CountingHasher(self._hasher, self.calls)  # type: ignore[assignment]

    def verify(self, stored_hash: str | None, password: str) -> Verification:
        self.calls.append(f"verify {stored_hash}")
        return super().verify(stored_hash, password)


def test_an_unknown_address_costs_a_password_hash_too(db: Session) -> None:
    # Otherwise the time a failed login takes would tell which addresses have accounts.
    counting = CountingPasswords()
    assert users.check_password(db, counting, "nobody@example.com", "guess") is None
    assert counting.calls == ["verify None", "argon2 hash"]


def test_check_password_does_not_touch_last_login(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    assert users.check_password(db, passwords, "ada@example.com", PASSWORD) is user
    assert user.last_login is None


def test_session_generation_is_made_once_and_replaced_to_end_sessions(make: Factory) -> None:
    user = make.user()
    assert user.session_generation is None
    first = users.session_generation_of(user)
    assert users.session_generation_of(user) == first
    users.end_sessions(user)
    assert user.session_generation not in (None, first)


def test_session_holder_checks_generation_and_account(db: Session, make: Factory) -> None:
    user = make.user()
    generation = users.session_generation_of(user)
    assert users.session_holder(db, user.id, generation) is user
    assert users.session_holder(db, user.id, "stale") is None
    assert users.session_holder(db, user.id, None) is None
    assert users.session_holder(db, user.id + 1000, generation) is None
    user.is_active = False
    assert users.session_holder(db, user.id, generation) is None


def test_change_password_ends_sessions_and_reset_links(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user()
    generation = users.session_generation_of(user)
    token = password_reset.issue(db, user, minutes=60)
    users.change_password(db, passwords, user, "a new password")
    assert passwords.verify(user.hashed_password, "a new password").ok
    assert user.session_generation != generation
    assert password_reset.find_valid(db, token) is None
