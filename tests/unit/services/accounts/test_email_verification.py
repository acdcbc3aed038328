from __future__ import annotations

import time
import types

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.services.accounts import email_verification, mail, rate_limit
from wheelyard.services.accounts.email_verification import InvalidLink
from wheelyard.services.audit import Action, Origin

HERE = Origin("192.0.2.1", "tests")
KEYS = ("the current secret key",)


def test_a_token_round_trips_to_the_account_and_its_address(db: Session, make: Factory) -> None:
    ada = make.user(email="ada@example.com", email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    assert email_verification.read_token(KEYS, token) == (ada.id, "ada@example.com")


def test_a_token_made_before_a_key_rotation_still_reads(db: Session, make: Factory) -> None:
    ada = make.user(email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    rotated = ("a newer secret key", *KEYS)
    assert email_verification.read_token(rotated, token)[0] == ada.id
    with pytest.raises(InvalidLink):
        email_verification.read_token(("an unrelated key",), token)


def test_a_token_older_than_three_days_has_expired(
    db: Session, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = email_verification.make_token(KEYS, make.user(email_verified=False))
    later = time.time() + email_verification.VALID_FOR.total_seconds() + 5
    # itsdangerous reads the time from its own module's ``time``.
    monkeypatch.setattr("itsdangerous.timed.time", types.SimpleNamespace(time=lambda: later))
    with pytest.raises(InvalidLink, match="expired"):
        email_verification.read_token(KEYS, token)


@pytest.mark.parametrize("change", ["tamper", "cut", "empty", "huge", "other salt"])
def test_a_changed_or_foreign_token_is_not_valid(db: Session, make: Factory, change: str) -> None:
    ada = make.user(email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    if change == "tamper":
        payload, rest = token.split(".", 1)
        token = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    elif change == "cut":
        token = token[:-4]
    elif change == "empty":
        token = ""
    elif change == "huge":
        token = "a" * 10_000
    else:
        token = URLSafeTimedSerializer(KEYS[0], salt="another purpose").dumps({"user": ada.id})
    with pytest.raises(InvalidLink, match="not valid"):
        email_verification.read_token(KEYS, token)


def test_verifying_marks_the_account_once_and_leaves_a_row(db: Session, make: Factory) -> None:
    ada = make.user(email="ada@example.com", email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    first = email_verification.verify(db, KEYS, token, origin=HERE)
    again = email_verification.verify(db, KEYS, token, origin=HERE)
    assert (first.newly, again.newly, ada.email_verified) == (True, False, True)
    rows = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == Action.EMAIL_VERIFIED))
    assert [(row.user_id, row.detail, row.ip_address) for row in rows] == [
        (ada.id, "ada@example.com", "192.0.2.1")
    ]


def test_a_link_to_an_address_the_account_no_longer_has_verifies_nothing(
    db: Session, make: Factory
) -> None:
    ada = make.user(email="ada@example.com", email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    ada.email = "ada@elsewhere.example"
    with pytest.raises(InvalidLink, match="no longer has"):
        email_verification.verify(db, KEYS, token, origin=HERE)
    assert ada.email_verified is False


def test_a_link_of_a_disabled_account_verifies_nothing(db: Session, make: Factory) -> None:
    ada = make.user(email_verified=False)
    token = email_verification.make_token(KEYS, ada)
    ada.is_active = False
    with pytest.raises(InvalidLink):
        email_verification.verify(db, KEYS, token, origin=HERE)
    assert ada.email_verified is False


def test_only_an_unverified_account_on_an_index_that_mails_must_verify(make: Factory) -> None:
    unverified, verified = make.user(email_verified=False), make.user()
    assert email_verification.required(True, unverified)
    assert not email_verification.required(True, verified)
    assert not email_verification.required(False, unverified)


def test_links_sent_are_counted_and_limited_per_address(db: Session, make: Factory) -> None:
    ada = make.user(email_verified=False)
    limit = rate_limit.VERIFICATIONS_PER_ADDRESS
    for _ in range(limit.attempts):
        assert email_verification.record_sending(db, ada, origin=HERE) is None
    assert email_verification.record_sending(db, ada, origin=HERE) == limit
    count = db.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == Action.EMAIL_VERIFICATION_SENT)
    )
    assert count == limit.attempts


def test_the_email_carries_the_link_and_its_lifetime() -> None:
    server = mail.SmtpServer(host="localhost", port=25, sender="index@example.com")
    url = email_verification.verification_url("https://pkgs.example.com/", "tok")
    assert url == "https://pkgs.example.com/account/verify/tok"
    message = email_verification.verification_email(
        server, to="ada@example.com", url=url, site_name="Yard"
    )
    assert message["To"] == "ada@example.com"
    assert "Verify your email address" in message["Subject"]
    body = message.get_content()
    assert url in body and "3 days" in body
