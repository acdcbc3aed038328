from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.services import audit
from wheelyard.services.accounts import rate_limit
from wheelyard.services.audit import Action, Origin

HERE = Origin("192.0.2.1", "tests")
ELSEWHERE = Origin("192.0.2.2", "tests")


def fail(db: Session, email: str, origin: Origin = HERE, times: int = 1) -> None:
    for _ in range(times):
        audit.record(db, Action.LOGIN_FAILED, origin=origin, detail=email)
    db.flush()


def blocked(
    db: Session, email: str, user_id: int | None = None, ip: str | None = "192.0.2.1"
) -> rate_limit.Limit | None:
    return rate_limit.login_limit_reached(db, email=email, ip_address=ip, user_id=user_id)


def test_nothing_is_limited_without_failures(db: Session) -> None:
    assert blocked(db, "ada@example.com") is None
    assert rate_limit.registration_limit_reached(db, ip_address="192.0.2.1") is None


def fail_from_many(db: Session, email: str, times: int) -> None:
    """``times`` failures on ``email``, each from another client, the last one from HERE."""
    for n in range(times - 1):
        fail(db, email, origin=Origin(f"198.51.100.{n}", "tests"))
    fail(db, email)


def test_failures_for_one_address_slow_the_clients_that_made_them(db: Session) -> None:
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", times=attempts - 1)
    assert blocked(db, "ada@example.com") is None
    fail(db, "ada@example.com", origin=ELSEWHERE)  # from anywhere: the address is the target
    step = int(rate_limit.LOGIN_BACKOFF_STEP.total_seconds())
    for ip in ("192.0.2.1", "192.0.2.2"):
        wait = blocked(db, "ada@example.com", ip=ip)
        assert isinstance(wait, rate_limit.Backoff)
        assert 0 < wait.retry_after_seconds <= step
    # A client that made none of those failures is not held back by them.
    assert blocked(db, "ada@example.com", ip="192.0.2.3") is None
    assert blocked(db, "bob@example.com") is None


def test_failures_from_many_addresses_lock_nobody_out(db: Session, make: Factory) -> None:
    # The attack: ten wrong passwords for one account, each from another address.
    user = make.user(email="ada@example.com")
    for n in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts * 3):
        fail(db, "ada@example.com", origin=Origin(f"198.51.100.{n}", "tests"))
    assert blocked(db, "ada@example.com", user.id, ip="203.0.113.9") is None
    assert blocked(db, "ada@example.com", user.id, ip="198.51.100.0") is not None


def test_the_backoff_grows_with_each_failure_up_to_its_cap(db: Session) -> None:
    free = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    step = int(rate_limit.LOGIN_BACKOFF_STEP.total_seconds())
    fail_from_many(db, "ada@example.com", free + 4)
    wait = blocked(db, "ada@example.com")
    assert isinstance(wait, rate_limit.Backoff)
    assert 4 * step < wait.retry_after_seconds <= 5 * step
    fail_from_many(db, "ada@example.com", 60)
    wait = blocked(db, "ada@example.com")
    assert isinstance(wait, rate_limit.Backoff)
    assert wait.retry_after_seconds == int(rate_limit.LOGIN_BACKOFF_MAX.total_seconds())


def test_the_backoff_ends_once_its_wait_has_passed(db: Session) -> None:
    fail_from_many(db, "ada@example.com", rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts + 4)
    assert blocked(db, "ada@example.com") is not None
    # Five failures past the free ones: a wait of 10 s after the newest.
    shift_back(db, dt.timedelta(seconds=5))
    assert blocked(db, "ada@example.com") is not None
    shift_back(db, dt.timedelta(seconds=5))
    assert blocked(db, "ada@example.com") is None


def shift_back(db: Session, by: dt.timedelta) -> None:
    """Every audit row made ``by`` earlier (in Python: SQLite cannot subtract from text)."""
    for event in db.scalars(sa.select(AuditEvent)):
        event.created_date -= by
    db.flush()


def test_without_a_client_address_the_address_count_stops_guesses(db: Session) -> None:
    fail_from_many(db, "ada@example.com", rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts)
    assert blocked(db, "ada@example.com", ip=None) is rate_limit.FAILED_LOGINS_PER_ADDRESS


def test_unknown_addresses_are_limited_like_known_ones(db: Session, make: Factory) -> None:
    # Otherwise a 429 would tell which addresses have an account.
    user = make.user(email="ada@example.com")
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail_from_many(db, "ada@example.com", attempts)
    fail_from_many(db, "nobody@example.com", attempts)
    assert blocked(db, "ada@example.com", user.id, ip=None) is not None
    assert blocked(db, "nobody@example.com", ip=None) is not None
    assert blocked(db, "ada@example.com", user.id, ip="198.51.100.0") == blocked(
        db, "nobody@example.com", ip="198.51.100.0"
    )


def test_a_successful_login_clears_the_count_for_the_address(db: Session, make: Factory) -> None:
    user = make.user(email="ada@example.com")
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", origin=ELSEWHERE, times=attempts - 1)
    audit.record(db, Action.LOGIN, origin=ELSEWHERE, user_id=user.id)
    fail(db, "ada@example.com", origin=ELSEWHERE, times=attempts - 1)
    assert blocked(db, "ada@example.com", user.id, ip=None) is None
    fail(db, "ada@example.com", origin=ELSEWHERE)
    assert blocked(db, "ada@example.com", user.id, ip=None) is not None


def test_one_ip_trying_many_addresses_is_limited(db: Session) -> None:
    attempts = rate_limit.FAILED_LOGINS_PER_IP.attempts
    for n in range(attempts):
        fail(db, f"user{n}@example.com")
    assert blocked(db, "fresh@example.com") is rate_limit.FAILED_LOGINS_PER_IP
    assert blocked(db, "fresh@example.com", ip="192.0.2.2") is None
    assert blocked(db, "fresh@example.com", ip=None) is None


def test_old_failures_no_longer_count(db: Session) -> None:
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", times=attempts)
    assert blocked(db, "ada@example.com") is not None
    long_ago = db.scalar(sa.select(sa.func.min(AuditEvent.created_date)))
    assert long_ago is not None
    window = rate_limit.FAILED_LOGINS_PER_IP.window
    db.execute(sa.update(AuditEvent).values(created_date=long_ago - window - dt.timedelta(1)))
    assert blocked(db, "ada@example.com") is None


@pytest.mark.parametrize("ip", ["192.0.2.1", None])
def test_registrations_per_ip(db: Session, make: Factory, ip: str | None) -> None:
    for _ in range(rate_limit.REGISTRATIONS_PER_IP.attempts):
        audit.record(db, Action.REGISTER, origin=HERE, user_id=make.user().id)
    db.flush()
    expected = rate_limit.REGISTRATIONS_PER_IP if ip else None
    assert rate_limit.registration_limit_reached(db, ip_address=ip) is expected
    assert rate_limit.registration_limit_reached(db, ip_address="192.0.2.2") is None


def test_logins_allow_ten_failures_in_five_minutes_per_address_and_per_ip() -> None:
    for limit in (rate_limit.FAILED_LOGINS_PER_ADDRESS, rate_limit.FAILED_LOGINS_PER_IP):
        assert limit.attempts == 10
        assert limit.window == dt.timedelta(minutes=5)
        assert limit.retry_after_seconds == 300


def test_failed_registrations_limit_the_address_and_the_ip(db: Session) -> None:
    attempts = rate_limit.FAILED_REGISTRATIONS_PER_ADDRESS.attempts
    for _ in range(attempts):
        audit.record(db, Action.REGISTER_FAILED, origin=ELSEWHERE, detail="ada@example.com")
    db.flush()
    assert (
        rate_limit.registration_limit_reached(db, ip_address=None, email="ada@example.com")
        is rate_limit.FAILED_REGISTRATIONS_PER_ADDRESS
    )
    assert (
        rate_limit.registration_limit_reached(db, ip_address="192.0.2.2")
        is rate_limit.FAILED_REGISTRATIONS_PER_IP
    )
    assert rate_limit.registration_limit_reached(db, ip_address="192.0.2.1") is None
    assert rate_limit.registration_limit_reached(db, ip_address=None, email="b@example.com") is None


def code_failures(db: Session, user_id: int, origin: Origin = HERE, times: int = 1) -> None:
    for _ in range(times):
        audit.record(db, Action.TWO_FACTOR_FAILED, origin=origin, user_id=user_id)
    db.flush()


def test_wrong_codes_limit_the_account_from_anywhere(db: Session, make: Factory) -> None:
    ada, bob = make.user(), make.user()
    attempts = rate_limit.FAILED_CODES_PER_ACCOUNT.attempts
    code_failures(db, ada.id, times=attempts - 1)
    assert rate_limit.two_factor_limit_reached(db, user_id=ada.id, ip_address=None) is None
    code_failures(db, ada.id, origin=ELSEWHERE)
    assert (
        rate_limit.two_factor_limit_reached(db, user_id=ada.id, ip_address=None)
        is rate_limit.FAILED_CODES_PER_ACCOUNT
    )
    # The IP that made most of those is limited for other accounts too.
    assert rate_limit.two_factor_limit_reached(db, user_id=bob.id, ip_address="192.0.2.1") is None
    code_failures(db, bob.id)
    assert (
        rate_limit.two_factor_limit_reached(db, user_id=bob.id, ip_address="192.0.2.1")
        is rate_limit.FAILED_CODES_PER_IP
    )


def test_a_login_clears_the_wrong_codes_of_the_account(db: Session, make: Factory) -> None:
    ada = make.user()
    code_failures(db, ada.id, origin=ELSEWHERE, times=rate_limit.FAILED_CODES_PER_ACCOUNT.attempts)
    audit.record(db, Action.LOGIN, origin=ELSEWHERE, user_id=ada.id)
    db.flush()
    assert rate_limit.two_factor_limit_reached(db, user_id=ada.id, ip_address=None) is None


def test_reset_requests_are_limited_per_address_and_per_ip(db: Session) -> None:
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        audit.record(db, Action.PASSWORD_RESET_REQUESTED, origin=ELSEWHERE, detail="a@example.com")
    db.flush()
    assert (
        rate_limit.reset_limit_reached(db, email="a@example.com", ip_address=None)
        is rate_limit.RESETS_PER_ADDRESS
    )
    assert rate_limit.reset_limit_reached(db, email="b@example.com", ip_address=None) is None
    for n in range(rate_limit.RESETS_PER_IP.attempts):
        audit.record(db, Action.PASSWORD_RESET_REQUESTED, origin=HERE, detail=f"{n}@example.com")
    db.flush()
    assert (
        rate_limit.reset_limit_reached(db, email="b@example.com", ip_address="192.0.2.1")
        is rate_limit.RESETS_PER_IP
    )
