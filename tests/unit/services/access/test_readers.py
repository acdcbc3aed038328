"""services.access.readers: who credentials stand for, and how briefly a worker remembers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.data.api_token import TokenScope
from wheelyard.services.access.readers import RememberedReaders, reader_id
from wheelyard.services.accounts import tokens
from wheelyard.services.accounts.credentials import Credentials
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin

HERE = Origin("192.0.2.5", "pip/25")


def test_any_token_reads_and_a_password_only_while_allowed(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    ada = make.user(email="ada@example.com")
    _read, read_secret = tokens.create_token(db, ada, description="r", scope=TokenScope.READ)
    _upload, upload_secret = tokens.create_token(db, ada, description="u")
    for secret in (read_secret, upload_secret):
        credentials = Credentials("__token__", secret)
        assert reader_id(db, passwords, credentials, password_auth=False, origin=HERE) == ada.id
    by_password = Credentials("ada@example.com", PASSWORD)
    assert reader_id(db, passwords, by_password, password_auth=True, origin=HERE) == ada.id
    assert reader_id(db, passwords, by_password, password_auth=False, origin=HERE) is None
    wrong = Credentials("ada@example.com", "guess")
    assert reader_id(db, passwords, wrong, password_auth=True, origin=HERE) is None


def test_a_remembered_reader_is_forgotten_after_its_time() -> None:
    now = [100.0]
    remembered = RememberedReaders[int](seconds=1.0, monotonic=lambda: now[0])
    key = remembered.key(b"Basic abc")
    remembered.remember(key, 7)
    assert remembered.lookup(key) == 7
    now[0] += 1.0
    assert remembered.lookup(key) is None
    assert len(remembered) == 0


def test_the_memory_is_bounded_and_keeps_the_newest() -> None:
    remembered = RememberedReaders[int](size=2)
    keys = [remembered.key(f"Basic {n}".encode()) for n in range(3)]
    for number, key in enumerate(keys):
        remembered.remember(key, number)
    assert len(remembered) == 2
    assert remembered.lookup(keys[0]) is None
    assert [remembered.lookup(key) for key in keys[1:]] == [1, 2]


def test_an_entry_lives_from_when_its_check_began() -> None:
    now = [100.0]
    remembered = RememberedReaders[int](seconds=1.0, monotonic=lambda: now[0])
    key = remembered.key(b"Basic abc")
    remembered.remember(key, 7, verified_at=99.5)  # the check took half a second
    now[0] = 100.4
    assert remembered.lookup(key) == 7
    now[0] = 100.5
    assert remembered.lookup(key) is None


def test_a_refresh_is_claimed_once_past_half_life() -> None:
    now = [100.0]
    remembered = RememberedReaders[int](seconds=1.0, monotonic=lambda: now[0])
    key = remembered.key(b"Basic abc")
    remembered.remember(key, 7)
    assert not remembered.claim_refresh(key)
    now[0] = 100.5
    assert remembered.claim_refresh(key)
    assert not remembered.claim_refresh(key)
    remembered.remember(key, 7)  # verified again: a fresh entry
    now[0] = 101.0
    assert remembered.claim_refresh(key)
    remembered.forget(key)
    assert remembered.lookup(key) is None
    assert not remembered.claim_refresh(remembered.key(b"Basic unknown"))
