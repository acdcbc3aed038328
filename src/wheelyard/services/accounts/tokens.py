"""API tokens: upload credentials shown once and kept only as a sha256 of the whole token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.api_token import ApiToken, TokenScope
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.user import User
from wheelyard.services import clock

PREFIX = "wheelyard-"
MAX_DESCRIPTION_LENGTH = 200
# Anything longer cannot be one of ours; refused before hashing.
_MAX_SECRET_LENGTH = 200


class TokenError(ValueError):
    """A token that cannot be created as asked; the message is for the user."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    db: Session,
    user: User,
    *,
    description: str,
    package_id: str | None = None,
    expires: dt.datetime | None = None,
    scope: TokenScope = TokenScope.UPLOAD,
    role_checked: bool = False,
) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret, which exists nowhere else after this call.

    ``role_checked``: the caller has made sure the user holds a role on ``package_id``
    through a team too (access.roles, a domain above this one); otherwise a direct role
    is required.
    """
    description = description.strip()
    if not description:
        raise TokenError("Give the token a description, so you can tell it apart later.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise TokenError(f"The description is longer than {MAX_DESCRIPTION_LENGTH} characters.")
    # A scoped token never reaches further than its owner's own rights.
    if (
        package_id is not None
        and not role_checked
        and db.get(Maintainer, (user.id, package_id)) is None
    ):
        raise TokenError("You can only scope a token to a project you maintain.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        description=description,
        hashed_secret=hash_secret(secret),
        package_id=package_id,
        expires=expires,
        scope=scope,
    )
    db.add(token)
    db.flush()
    return token, secret


def describe(token: ApiToken) -> str:
    """How the audit trail names a token: its id and description, never anything secret."""
    scope = "" if token.scope is TokenScope.UPLOAD else f" ({token.scope.value} only)"
    return f"token {token.id}: {token.description}{scope}"


def find_valid_token(db: Session, secret: str) -> ApiToken | None:
    """The token a secret stands for, with last_used updated; None if it cannot be used."""
    if not secret.startswith(PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    query = (
        sa.select(ApiToken)
        .where(ApiToken.hashed_secret == hash_secret(secret))
        .options(selectinload(ApiToken.user))
    )
    token = db.scalars(query).one_or_none()
    now = clock.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires is not None and token.expires <= now:
        return None
    token.last_used = now
    return token


def revoke(db: Session, token_id: int, user_id: int) -> ApiToken | None:
    """Delete the token if ``user_id`` owns it and return it; None when they own no such token."""
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        return None
    db.delete(token)
    db.flush()
    return token


def list_for_user(db: Session, user_id: int) -> list[ApiToken]:
    query = (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_date.desc(), ApiToken.id.desc())
    )
    return list(db.scalars(query))
