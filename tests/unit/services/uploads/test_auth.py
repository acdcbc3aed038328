"""Upload credentials: API tokens, email and password, and everything that is refused."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.api_token import TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.services import audit, clock
from wheelyard.services.accounts import rate_limit, tokens
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin
from wheelyard.services.uploads import auth
from wheelyard.services.uploads.auth import (
    AuthenticationError,
    Credentials,
    Uploader,
    authenticate,
    parse_basic,
)

PASSWORD = "correct horse battery"
ORIGIN = Origin(ip_address="192.0.2.7", user_agent="twine/7")


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def login(
    db: Session,
    passwords: Passwords,
    credentials: Credentials | None,
    *,
    password_uploads: bool = True,
    verified_email_required: bool = False,
) -> Uploader:
    return authenticate(
        db,
        passwords,
        credentials,
        password_uploads=password_uploads,
        origin=ORIGIN,
        verified_email_required=verified_email_required,
    )


def refused(
    db: Session, passwords: Passwords, credentials: Credentials | None, **kwargs: bool
) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        login(db, passwords, credentials, **kwargs)
    return caught.value


# --- the header -------------------------------------------------------------------------------


def test_parse_basic_reads_username_and_password() -> None:
    assert parse_basic(basic("__token__:wheelyard-abc:def")) == Credentials(
        "__token__", "wheelyard-abc:def"
    )
    assert parse_basic("basic " + base64.b64encode(b"a@b.c:pw").decode()) == Credentials(
        "a@b.c", "pw"
    )


def test_parse_basic_without_a_header_is_none() -> None:
    assert parse_basic(None) is None
    assert parse_basic("") is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        basic("no-colon-here"),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + "A" * 5000,
    ],
)
def test_parse_basic_refuses_a_malformed_header(header: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        parse_basic(header)
    assert caught.value.status == 403
    assert caught.value.message == auth.INVALID_CREDENTIALS


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_authenticates_its_user(db: Session, passwords: Passwords, make: Factory) -> None:
    user = make.user()
    token, secret = tokens.create_token(db, user, description="ci")
    uploader = login(db, passwords, Credentials("__token__", secret))
    assert uploader.user.id == user.id
    assert uploader.token is token
    assert uploader.project_scope is None
    assert uploader.describe() == f"API token {token.id}"
    assert token.last_used is not None


def test_a_scoped_token_carries_its_project(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user()
    package = make.package("scoped-project", owner=user)
    _token, secret = tokens.create_token(db, user, description="ci", package_id=package.id)
    assert login(db, passwords, Credentials("__token__", secret)).project_scope == package.id


def test_tokens_work_even_when_password_uploads_are_off(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    _token, secret = tokens.create_token(db, make.user(), description="ci")
    uploader = login(db, passwords, Credentials("__token__", secret), password_uploads=False)
    assert uploader.token is not None


def test_each_use_of_a_token_is_recorded_by_name_not_by_secret(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user()
    package = make.package("scoped-project", owner=user)
    token, secret = tokens.create_token(db, user, description="ci", package_id=package.id)
    for _ in range(2):
        login(db, passwords, Credentials("__token__", secret))
    db.flush()
    rows = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(row.action, row.user_id, row.package_id) for row in rows] == [
        (audit.Action.TOKEN_USED, user.id, package.id)
    ] * 2
    assert {(row.detail, row.ip_address, row.user_agent) for row in rows} == {
        (f"token {token.id}: ci", "192.0.2.7", "twine/7")
    }


@pytest.mark.parametrize("secret", ["wheelyard-unknown", "", "not-even-ours", PASSWORD])
def test_an_unknown_token_is_refused(
    db: Session, passwords: Passwords, make: Factory, secret: str
) -> None:
    tokens.create_token(db, make.user(), description="ci")
    error = refused(db, passwords, Credentials("__token__", secret))
    assert (error.status, error.message) == (403, auth.INVALID_CREDENTIALS)
    assert db.scalars(sa.select(AuditEvent)).all() == []


def test_a_read_token_cannot_upload(db: Session, passwords: Passwords, make: Factory) -> None:
    _token, secret = tokens.create_token(
        db, make.user(), description="install only", scope=TokenScope.READ
    )
    error = refused(db, passwords, Credentials("__token__", secret))
    assert (error.status, error.message) == (403, auth.UPLOAD_SCOPE_NEEDED)
    assert db.scalars(sa.select(AuditEvent)).all() == []


def test_an_expired_token_is_refused(db: Session, passwords: Passwords, make: Factory) -> None:
    expired = clock.now() - dt.timedelta(minutes=1)
    _token, secret = tokens.create_token(db, make.user(), description="old", expires=expired)
    assert refused(db, passwords, Credentials("__token__", secret)).status == 403


def test_a_token_of_a_disabled_account_is_refused(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user()
    _token, secret = tokens.create_token(db, user, description="ci")
    user.is_active = False
    assert refused(db, passwords, Credentials("__token__", secret)).status == 403


# --- passwords --------------------------------------------------------------------------------


def test_email_and_password_authenticate(db: Session, passwords: Passwords, make: Factory) -> None:
    user = make.user(email="ada@example.com")
    uploader = login(db, passwords, Credentials("Ada@Example.com", PASSWORD))
    assert uploader.user.id == user.id
    assert uploader.token is None
    assert uploader.describe() == "password"


def test_a_wrong_password_is_refused_and_recorded(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    error = refused(db, passwords, Credentials("ada@example.com", "wrong password"))
    assert (error.status, error.message) == (403, auth.INVALID_CREDENTIALS)
    failures = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == audit.Action.LOGIN_FAILED)
    ).all()
    assert [(row.user_id, row.detail, row.ip_address) for row in failures] == [
        (user.id, "ada@example.com", ORIGIN.ip_address)
    ]


def test_an_unknown_email_is_refused_like_a_wrong_password(
    db: Session, passwords: Passwords
) -> None:
    error = refused(db, passwords, Credentials("nobody@example.com", PASSWORD))
    assert (error.status, error.message) == (403, auth.INVALID_CREDENTIALS)


def test_an_empty_password_is_refused(db: Session, passwords: Passwords, make: Factory) -> None:
    make.user(email="ada@example.com")
    assert refused(db, passwords, Credentials("ada@example.com", "")).status == 403


def test_passwords_are_refused_when_the_setting_is_off(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    error = refused(db, passwords, Credentials("ada@example.com", PASSWORD), password_uploads=False)
    assert (error.status, error.message) == (403, auth.PASSWORDS_OFF)


def test_too_many_failures_stop_password_checks(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    make.user(email="ada@example.com")
    for _ in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        refused(db, passwords, Credentials("ada@example.com", "guess"))
    # Even the right password is not checked now.
    error = refused(db, passwords, Credentials("ada@example.com", PASSWORD))
    assert (error.status, error.message) == (429, auth.TOO_MANY_FAILURES)
    assert error.retry_after == rate_limit.FAILED_LOGINS_PER_ADDRESS.retry_after_seconds


def test_no_credentials_ask_for_them(db: Session, passwords: Passwords) -> None:
    error = refused(db, passwords, None)
    assert error.status == 401
    assert "__token__" in error.message


def test_a_password_alone_is_refused_when_two_factor_is_on(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    ada = make.user(email="ada@example.com", password=PASSWORD)
    ada.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    error = refused(db, passwords, Credentials("ada@example.com", PASSWORD))
    assert error.message == auth.SECOND_FACTOR_ACCOUNT
    assert error.status == 403
    _, secret = tokens.create_token(db, ada, description="ci")
    assert login(db, passwords, Credentials("__token__", secret)).user is ada


# --- unverified addresses --------------------------------------------------------------------


@pytest.mark.parametrize("by", ["password", "upload token", "read token"])
def test_an_unverified_account_is_refused_whatever_it_signs_in_with(
    db: Session, passwords: Passwords, make: Factory, by: str
) -> None:
    user = make.user(email="new@example.com", password=PASSWORD, email_verified=False)
    if by == "password":
        credentials = Credentials("new@example.com", PASSWORD)
    else:
        scope = TokenScope.UPLOAD if by == "upload token" else TokenScope.READ
        _token, secret = tokens.create_token(db, user, description="ci", scope=scope)
        credentials = Credentials("__token__", secret)
    error = refused(db, passwords, credentials, verified_email_required=True)
    assert error.status == 403
    if by != "read token":  # a read token is told first that it cannot upload at all
        assert "Verify your email address new@example.com before uploading" in error.message
        # Without a mail server to verify with, nothing is asked.
        assert login(db, passwords, credentials).user is user


def test_a_verified_account_uploads_while_verification_is_required(
    db: Session, passwords: Passwords, make: Factory
) -> None:
    user = make.user(email="old@example.com", password=PASSWORD)
    credentials = Credentials("old@example.com", PASSWORD)
    assert login(db, passwords, credentials, verified_email_required=True).user is user
