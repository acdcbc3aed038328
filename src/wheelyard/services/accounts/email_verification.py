"""Proving an account reads mail at its address, by a link mailed to it, before it uploads.

While the index has a mail server, an account made at sign-up may not upload until it has
followed the link (PyPI asks the same): otherwise anyone could register with any address
and be the first uploader of a name. Accounts an operator makes are verified at once, and
without a mail server there is no way to send the link, so nothing is asked then.

The link carries a token signed with the server's secret key (itsdangerous, under a salt
of its own, so no other signed value of the index can stand in for it), naming the account
and the address it was sent to: nothing is stored, and a link to an address the account no
longer has proves nothing and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import mail, rate_limit, users
from wheelyard.services.audit import Origin

SALT = "wheelyard.email-verification"
VALID_FOR = dt.timedelta(days=3)
# A token is about 100 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 500

EXPIRED = "This verification link has expired: send a new one from your account page."
NOT_VALID = "This verification link is not valid: it was changed or cut short in copying."
ADDRESS_CHANGED = (
    "This verification link was sent to an address the account no longer has: "
    "send a new one from your account page."
)


class InvalidLink(ValueError):
    """A verification link that proves nothing; the message says why, for the user."""


@dataclass(frozen=True)
class Verified:
    user: User
    # False when the account was verified already (a second click on the same link).
    newly: bool


def _serializer(secret_keys: Sequence[str]) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and accepts any: the old keys (newest first in
    # the settings) keep links sent before a key rotation working until they expire.
    return URLSafeTimedSerializer(list(reversed(secret_keys)), salt=SALT)


def make_token(secret_keys: Sequence[str], user: User) -> str:
    """A token for ``user``'s present address; ``secret_keys`` newest first."""
    return str(_serializer(secret_keys).dumps({"user": user.id, "email": user.email}))


def read_token(
    secret_keys: Sequence[str], token: str, *, max_age: dt.timedelta = VALID_FOR
) -> tuple[int, str]:
    """The account id and address the token was made for; InvalidLink when it is not one."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidLink(NOT_VALID)
    try:
        payload = _serializer(secret_keys).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as error:
        raise InvalidLink(EXPIRED) from error
    except BadSignature as error:
        raise InvalidLink(NOT_VALID) from error
    user_id = payload.get("user") if isinstance(payload, dict) else None
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise InvalidLink(NOT_VALID)
    return user_id, email


def verify(db: Session, secret_keys: Sequence[str], token: str, *, origin: Origin) -> Verified:
    """Mark the token's account verified, if it still has the address; InvalidLink if not."""
    user_id, email = read_token(secret_keys, token)
    user = users.active_user(db, user_id)
    if user is None or user.email != email:
        raise InvalidLink(ADDRESS_CHANGED if user is not None else NOT_VALID)
    if user.email_verified:
        return Verified(user, newly=False)
    user.email_verified = True
    audit.record(db, audit.Action.EMAIL_VERIFIED, origin=origin, user_id=user.id, detail=email)
    return Verified(user, newly=True)


def required(smtp_configured: bool, user: User) -> bool:
    """Whether ``user`` must verify their address before uploading."""
    return smtp_configured and not user.email_verified


def record_sending(db: Session, user: User, *, origin: Origin) -> rate_limit.Limit | None:
    """Count a link about to be mailed to ``user``; the limit reached instead, if any."""
    limit = rate_limit.verification_limit_reached(
        db, email=user.email, ip_address=origin.ip_address
    )
    if limit is not None:
        return limit
    audit.record(
        db, audit.Action.EMAIL_VERIFICATION_SENT, origin=origin, user_id=user.id, detail=user.email
    )
    return None


def verification_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/account/verify/{token}"


def verification_email(
    server: mail.SmtpServer, *, to: str, url: str, site_name: str
) -> EmailMessage:
    days = VALID_FOR.days
    body = (
        f"Someone, probably you, made an account on {site_name} with this address.\n"
        f"\n"
        f"Confirm that it is yours here; the account can upload once you have:\n"
        f"\n"
        f"    {url}\n"
        f"\n"
        f"The link works for {days} days.\n"
        f"\n"
        f"If you did not make this account, ignore this email.\n"
    )
    return mail.compose(server, to, f"Verify your email address on {site_name}", body)
