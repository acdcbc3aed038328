from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import Factory
from wheelyard.services import users
from wheelyard.services.passwords import Passwords


def test_create_user_hashes_and_lowercases(db: Session, passwords: Passwords) -> None:
    user = users.create_user(
        db, passwords, name=" Ada ", email=" Ada@Example.COM ", password="secret words"
    )
    assert user.name == "Ada"
    assert user.email == "ada@example.com"
    assert user.hashed_password is not None and user.hashed_password.startswith("$argon2id$")


def test_create_user_refuses_an_email_in_use_in_any_case(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    with pytest.raises(users.AccountError, match="already exists"):
        users.create_user(db, passwords, name="A", email="ADA@example.com", password="x" * 8)


def test_authenticate_sets_last_login(db: Session, passwords: Passwords, make: Factory) -> None:
    user = make.user(email="ada@example.com")
    assert users.authenticate(db, passwords, "Ada@example.com", "correct horse battery") is user
    assert user.last_login is not None


def test_authenticate_refuses_wrong_password_unknown_email_and_no_password(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    make.user(email="imported@example.com", password=None)
    assert users.authenticate(db, passwords, "ada@example.com", "wrong") is None
    assert users.authenticate(db, passwords, "nobody@example.com", "correct horse battery") is None
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
        users.create_user(db, passwords, name="A", email="ada@example.com", password="x" * 8)
    # The caller's transaction is still usable.
    assert db.get(type(first), first.id) is first
    assert users.create_user(db, passwords, name="B", email="b@example.com", password=None).id


def test_names_by_id(db: Session, make: Factory) -> None:
    ada, bob = make.user(name="Ada"), make.user(name="Bob")
    assert users.names_by_id(db, [ada.id, bob.id, None, ada.id]) == {ada.id: "Ada", bob.id: "Bob"}
    assert users.names_by_id(db, [None]) == {}
