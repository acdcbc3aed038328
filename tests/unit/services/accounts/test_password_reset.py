from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.password_reset import PasswordReset
from wheelyard.services import clock
from wheelyard.services.accounts import mail, password_reset, rate_limit, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Action, Origin

HERE = Origin("192.0.2.1", "tests")


def resets(db: Session) -> list[PasswordReset]:
    return list(db.scalars(sa.select(PasswordReset)))


def test_a_request_for_an_account_makes_a_hashed_token(db: Session, make: Factory) -> None:
    ada = make.user(email="ada@example.com")
    asked = password_reset.request_reset(db, email=" ADA@example.com", origin=HERE, minutes=60)
    assert asked.user is ada and asked.token is not None and asked.limit is None
    (stored,) = resets(db)
    assert stored.hashed_token == hashlib.sha256(asked.token.encode()).hexdigest()
    assert dt.timedelta(minutes=59) < stored.expires - clock.now() <= dt.timedelta(minutes=60)
    event = db.scalars(sa.select(AuditEvent)).one()
    assert (event.action, event.user_id, event.detail) == (
        Action.PASSWORD_RESET_REQUESTED,
        ada.id,
        "ada@example.com",
    )


def test_a_request_for_an_unknown_address_makes_nothing_but_a_row(db: Session) -> None:
    asked = password_reset.request_reset(db, email="who@example.com", origin=HERE, minutes=60)
    assert asked == password_reset.ResetRequest()
    assert resets(db) == []
    assert db.scalars(sa.select(AuditEvent.detail)).one() == "who@example.com"


def test_requests_past_the_limit_are_refused_without_a_row(db: Session) -> None:
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        password_reset.request_reset(db, email="who@example.com", origin=HERE, minutes=60)
    asked = password_reset.request_reset(db, email="who@example.com", origin=HERE, minutes=60)
    assert asked.limit is rate_limit.RESETS_PER_ADDRESS
    count = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert count == rate_limit.RESETS_PER_ADDRESS.attempts


def test_a_token_is_valid_until_it_expires(db: Session, make: Factory) -> None:
    token = password_reset.issue(db, make.user(), minutes=60)
    assert password_reset.find_valid(db, token) is not None
    assert password_reset.find_valid(db, token + "x") is None
    assert password_reset.find_valid(db, "") is None
    assert password_reset.find_valid(db, "x" * 1000) is None
    resets(db)[0].expires = clock.now() - dt.timedelta(seconds=1)
    db.flush()
    assert password_reset.find_valid(db, token) is None


def test_a_new_token_voids_the_previous_one(db: Session, make: Factory) -> None:
    user = make.user()
    first = password_reset.issue(db, user, minutes=60)
    second = password_reset.issue(db, user, minutes=60)
    assert password_reset.find_valid(db, first) is None
    assert password_reset.find_valid(db, second) is not None


def test_redeeming_changes_the_password_once_and_ends_sessions(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    user = make.user()
    generation = users.session_generation_of(user)
    token = password_reset.issue(db, user, minutes=60)
    assert password_reset.redeem(db, passwords, token, "new password!", origin=HERE) is user
    assert passwords.verify(user.hashed_password, "new password!").ok
    assert user.session_generation != generation
    assert resets(db) == []
    assert password_reset.redeem(db, passwords, token, "another one!", origin=HERE) is None
    assert db.scalars(sa.select(AuditEvent.action)).all() == [Action.PASSWORD_RESET]


def test_redeeming_a_mailed_link_verifies_the_address_too(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    user = make.user(email_verified=False)
    token = password_reset.issue(db, user, minutes=60)
    assert password_reset.redeem(db, passwords, token, "new password!", origin=HERE) is user
    assert user.email_verified is True


def test_a_token_of_a_disabled_account_is_worthless(
    db: Session, make: Factory, passwords: Passwords
) -> None:
    user = make.user()
    token = password_reset.issue(db, user, minutes=60)
    user.is_active = False
    old_hash = user.hashed_password
    assert password_reset.redeem(db, passwords, token, "new password!", origin=HERE) is None
    assert user.hashed_password == old_hash


def test_the_email_carries_the_link_and_its_lifetime() -> None:
    server = mail.SmtpServer(host="mail.example.com", port=25, sender="index@example.com")
    url = password_reset.reset_url("https://pypi.example.org/", "TOKEN")
    assert url == "https://pypi.example.org/account/reset/TOKEN"
    message = password_reset.reset_email(
        server, to="ada@example.com", url=url, minutes=30, site_name="Yard"
    )
    assert message["To"] == "ada@example.com"
    assert message["From"] == "index@example.com"
    assert message["Subject"] == "Reset your Yard password"
    body = message.get_content()
    assert url in body and "30 minutes" in body
