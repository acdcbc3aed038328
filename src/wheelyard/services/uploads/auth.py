"""Who is uploading: HTTP basic credentials, as twine sends them, turned into an uploader.

Two kinds of credentials are accepted, as on PyPI: the username ``__token__`` with an API
token as the password, or an account's email and password (while the index allows it,
``Settings.password_uploads``). A token scoped to one project travels with the uploader so
that the upload can refuse every other project. Wrong passwords count towards the same
rate limits as the login page, since both guess the same secret.

Each request a token authenticates leaves a "token used" row in the audit trail, whatever
becomes of the upload after: its owner can then see every use, refused ones included.
Uploads are rare next to downloads, which are never recorded this way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wheelyard.data.api_token import ApiToken, TokenScope
from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import email_verification, logins, tokens, users
from wheelyard.services.accounts.credentials import (
    TOKEN_USERNAME,
    Credentials,
    MalformedCredentials,
)
from wheelyard.services.accounts.credentials import parse_basic as parse_basic_header
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin
from wheelyard.services.oidc import minting, publisher_tokens

INVALID_CREDENTIALS = "Invalid or non-existent authentication information."
NO_CREDENTIALS = (
    f"{INVALID_CREDENTIALS} Send HTTP basic credentials: username {TOKEN_USERNAME} "
    "with an API token as password."
)
SECOND_FACTOR_ACCOUNT = (
    "Two-factor login is on for this account: upload with an API token (username __token__)."
)
UPLOAD_SCOPE_NEEDED = (
    "This API token can only read (install). Uploads need a token with the upload scope; "
    "make one on your account's token page."
)
EXPIRED_PUBLISHER_TOKEN = (
    f"{INVALID_CREDENTIALS} Tokens minted for trusted publishers last 15 minutes: mint a new one."
)
TOO_MANY_FAILURES = "Too many failed logins for this account or address; try again later."
UNVERIFIED_EMAIL = (
    "Verify your email address {email} before uploading: the link was mailed to it when "
    "the account was made; send it again from your account page."
)
PASSWORDS_OFF = (
    "Uploading with an email and password is turned off on this index. "
    f"Use an API token: username {TOKEN_USERNAME}, the token as password."
)


class AuthenticationError(Exception):
    """The credentials let nobody upload; ``status`` is 401 (none sent), 403 or 429."""

    def __init__(self, message: str, status: int = 403, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Uploader:
    """An authenticated uploader: an account, with the API token it used, if any; or a CI
    job with a token minted for its trusted publishers (no account at all)."""

    user: User | None
    token: ApiToken | None = None
    publisher_token: PublisherToken | None = None

    @property
    def project_scope(self) -> str | None:
        """The only project this uploader may touch, when their token is scoped."""
        return self.token.package_id if self.token is not None else None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.is_admin

    def describe(self) -> str:
        """How they authenticated, for the audit trail."""
        if self.publisher_token is not None:
            return minting.describe_token(self.publisher_token)
        return f"API token {self.token.id}" if self.token is not None else "password"


def parse_basic(header: str | None) -> Credentials | None:
    """Credentials from an ``Authorization: Basic ...`` header; None when none was sent.

    A header that is there but is not valid basic auth raises AuthenticationError.
    """
    try:
        return parse_basic_header(header)
    except MalformedCredentials as error:
        raise AuthenticationError(INVALID_CREDENTIALS) from error


def authenticate(
    db: Session,
    passwords: Passwords,
    credentials: Credentials | None,
    *,
    password_uploads: bool,
    origin: Origin,
    verified_email_required: bool = False,
) -> Uploader:
    """The uploader the credentials stand for; AuthenticationError when they stand for none.

    A wrong password is recorded in the audit trail before the error is raised (the rate
    limits count those rows), so the caller commits its transaction even on failure; a
    valid token's use is recorded too. With ``verified_email_required`` (the index has a
    mail server), an account that has not verified its address is refused, whatever
    credential it used: the rule is about the account.
    """
    uploader = _uploader(
        db, passwords, credentials, password_uploads=password_uploads, origin=origin
    )
    if uploader.user is not None and email_verification.required(
        verified_email_required, uploader.user
    ):
        raise AuthenticationError(UNVERIFIED_EMAIL.format(email=uploader.user.email))
    return uploader


def _uploader(
    db: Session,
    passwords: Passwords,
    credentials: Credentials | None,
    *,
    password_uploads: bool,
    origin: Origin,
) -> Uploader:
    if credentials is None:
        raise AuthenticationError(NO_CREDENTIALS, status=401)
    if credentials.username == TOKEN_USERNAME and publisher_tokens.is_publisher_secret(
        credentials.password
    ):
        minted = publisher_tokens.find_valid(db, credentials.password)
        if minted is None:
            raise AuthenticationError(EXPIRED_PUBLISHER_TOKEN)
        return Uploader(user=None, publisher_token=minted)
    if credentials.username == TOKEN_USERNAME:
        token = tokens.find_valid_token(db, credentials.password)
        if token is None:
            raise AuthenticationError(INVALID_CREDENTIALS)
        if token.scope is not TokenScope.UPLOAD:
            raise AuthenticationError(UPLOAD_SCOPE_NEEDED)
        audit.record(
            db,
            audit.Action.TOKEN_USED,
            origin=origin,
            user_id=token.user_id,
            package_id=token.package_id,
            detail=tokens.describe(token),
        )
        return Uploader(user=token.user, token=token)
    if not password_uploads:
        raise AuthenticationError(PASSWORDS_OFF)
    if not credentials.password or len(credentials.password) > users.MAX_PASSWORD_LENGTH:
        raise AuthenticationError(INVALID_CREDENTIALS)
    return Uploader(user=_password_user(db, passwords, credentials, origin))


def _password_user(
    db: Session, passwords: Passwords, credentials: Credentials, origin: Origin
) -> User:
    attempt = logins.attempt_login(
        db, passwords, email=credentials.username, password=credentials.password, origin=origin
    )
    if attempt.limit is not None:
        raise AuthenticationError(TOO_MANY_FAILURES, 429, attempt.limit.retry_after_seconds)
    if attempt.second_factor is not None:
        # A password alone cannot stand in for two factors; a token was made with both.
        raise AuthenticationError(SECOND_FACTOR_ACCOUNT)
    if attempt.user is None:
        raise AuthenticationError(INVALID_CREDENTIALS)
    return attempt.user
