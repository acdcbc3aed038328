from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.services import audit, rate_limit
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


def test_failures_for_one_address_limit_that_address_only(db: Session) -> None:
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", times=attempts - 1)
    assert blocked(db, "ada@example.com") is None
    fail(db, "ada@example.com", origin=ELSEWHERE)  # from anywhere: the address is the target
    assert blocked(db, "ada@example.com") is rate_limit.FAILED_LOGINS_PER_ADDRESS
    assert blocked(db, "bob@example.com") is None


def test_unknown_addresses_are_limited_like_known_ones(db: Session, make: Factory) -> None:
    # Otherwise a 429 would tell which addresses have an account.
    user = make.user(email="ada@example.com")
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", origin=ELSEWHERE, times=attempts)
    fail(db, "nobody@example.com", origin=ELSEWHERE, times=attempts)
    assert blocked(db, "ada@example.com", user.id) is not None
    assert blocked(db, "nobody@example.com") is not None


def test_a_successful_login_clears_the_count_for_the_address(db: Session, make: Factory) -> None:
    user = make.user(email="ada@example.com")
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    fail(db, "ada@example.com", origin=ELSEWHERE, times=attempts - 1)
    audit.record(db, Action.LOGIN, origin=ELSEWHERE, user_id=user.id)
    fail(db, "ada@example.com", origin=ELSEWHERE, times=attempts - 1)
    assert blocked(db, "ada@example.com", user.id) is None
    fail(db, "ada@example.com", origin=ELSEWHERE)
    assert blocked(db, "ada@example.com", user.id) is not None


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
