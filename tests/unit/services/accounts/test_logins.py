"""Password login attempts: success, audited failure, and the per-address limit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.data.audit import AuditEvent
from wheelyard.services import audit
from wheelyard.services.accounts.credentials import Credentials
from wheelyard.services.accounts.logins import attempt_login
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.accounts.rate_limit import FAILED_LOGINS_PER_ADDRESS
from wheelyard.services.audit import Origin
from wheelyard.services.uploads import auth

ORIGIN = Origin(ip_address="192.0.2.9", user_agent="test")


def failures(db: Session) -> int:
    query = sa.select(sa.func.count()).where(AuditEvent.action == audit.Action.LOGIN_FAILED)
    return db.scalar(query.select_from(AuditEvent)) or 0


def test_the_right_password_logs_in(db: Session, make: Factory, passwords: Passwords) -> None:
    ada = make.user(email="ada@example.com")
    attempt = attempt_login(
        db, passwords, email="ADA@example.com", password=PASSWORD, origin=ORIGIN
    )
    assert attempt.user is ada
    assert attempt.limit is None
    assert failures(db) == 0


def test_a_wrong_password_is_recorded(db: Session, make: Factory, passwords: Passwords) -> None:
    make.user(email="ada@example.com")
    attempt = attempt_login(db, passwords, email="ada@example.com", password="no", origin=ORIGIN)
    assert attempt.user is None
    assert attempt.limit is None
    assert failures(db) == 1


def test_an_unknown_address_fails_the_same_way(db: Session, passwords: Passwords) -> None:
    attempt = attempt_login(db, passwords, email="who@example.com", password="x", origin=ORIGIN)
    assert attempt == attempt_login(
        db, passwords, email="who@example.com", password="y", origin=ORIGIN
    )
    assert failures(db) == 2


def test_too_many_failures_stop_even_the_right_password(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    make.user(email="ada@example.com")
    for _ in range(FAILED_LOGINS_PER_ADDRESS.attempts):
        attempt_login(db, passwords, email="ada@example.com", password="wrong", origin=ORIGIN)
    attempt = attempt_login(
        db, passwords, email="ada@example.com", password=PASSWORD, origin=ORIGIN
    )
    assert attempt.user is None
    assert attempt.limit is not None


def test_a_right_password_with_two_factor_on_only_asks_for_the_second_factor(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    ada = make.user(email="ada@example.com")
    ada.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    attempt = attempt_login(
        db, passwords, email="ada@example.com", password=PASSWORD, origin=ORIGIN
    )
    # Callers that only look at ``user`` (password uploads) see no login.
    assert attempt.user is None
    assert attempt.second_factor is ada
    assert ada.last_login is None
    assert failures(db) == 0


def test_a_wrong_password_with_two_factor_on_is_just_wrong(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    ada = make.user(email="ada@example.com")
    ada.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    attempt = attempt_login(db, passwords, email="ada@example.com", password="no", origin=ORIGIN)
    assert attempt == attempt_login(
        db, passwords, email="nobody@example.com", password="no", origin=ORIGIN
    )
    assert failures(db) == 2


def test_a_password_upload_by_an_account_with_two_factor_is_refused(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    ada = make.user(email="ada@example.com")
    ada.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    credentials = Credentials("ada@example.com", PASSWORD)
    with pytest.raises(auth.AuthenticationError) as refused:
        auth.authenticate(db, passwords, credentials, password_uploads=True, origin=ORIGIN)
    assert refused.value.status == 403
