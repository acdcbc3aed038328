"""Exchanging a verified OIDC token for a short-lived upload token, as PyPI does.

The token verified (services/oidc/verify.py, before any transaction: it may fetch keys),
this module matches its claims against the publishers, accepts its ``jti`` once (a row
whose primary key holds across workers and nodes), and stores the new token's hash with
the claims it was minted for. An upload with it reaches a project only while one of that
project's publishers matches those claims (services/oidc/publisher_tokens.py).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.oidc_used_token import OidcUsedToken
from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.trusted_publisher import TrustedPublisher
from wheelyard.services import audit, clock
from wheelyard.services.accounts.tokens import hash_secret
from wheelyard.services.audit import Origin
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.errors import Code, MintError
from wheelyard.services.oidc.verify import LEEWAY_SECONDS

PREFIX = "wheelyard-oidc-"
LIFETIME = dt.timedelta(minutes=15)
# The claims the audit trail names, when the token has them: who ran what, where.
AUDITED_CLAIMS = (
    "sub",
    "repository",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "sha",
    "environment",
    "run_id",
    "run_attempt",
    "project_path",
    "ci_config_ref_uri",
    "pipeline_id",
    "jti",
)


@dataclass(frozen=True)
class Minted:
    token: PublisherToken
    secret: str
    publishers: list[TrustedPublisher]


def mint(db: Session, claims: Mapping[str, Any], *, origin: Origin) -> Minted:
    """A new upload token for verified ``claims``; MintError, with nothing stored, when no
    publisher matches them or their ``jti`` was used before."""
    issuer = str(claims["iss"])
    found = publishers.matching(db, issuer, claims)
    if not found:
        raise MintError(
            Code.INVALID_PUBLISHER,
            "valid token, but no corresponding publisher (no trusted publisher of any "
            "project matches its claims)",
        )
    now = clock.now()
    _forget_expired(db, now)
    _accept_once(db, issuer, str(claims["jti"]), _expiry(claims))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = PublisherToken(
        hashed_secret=hash_secret(secret),
        issuer=issuer,
        claims=dict(claims),
        expires=now + LIFETIME,
    )
    db.add(token)
    db.flush()
    for publisher in found:
        audit.record(
            db,
            audit.Action.PUBLISHER_TOKEN_MINTED,
            origin=origin,
            package_id=publishers.existing_project(db, publisher.project_id),
            detail=(
                f"{describe_token(token)} for trusted publisher {publisher.id}: "
                f"{publishers.describe(publisher)}; claims {audited_claims(claims)}"
            ),
        )
    return Minted(token=token, secret=secret, publishers=found)


def describe_token(token: PublisherToken) -> str:
    return f"publisher token {token.id}"


def audited_claims(claims: Mapping[str, Any]) -> str:
    kept = {name: claims[name] for name in ("iss", *AUDITED_CLAIMS) if name in claims}
    return json.dumps(kept, sort_keys=True, default=str)


def _expiry(claims: Mapping[str, Any]) -> dt.datetime:
    exp = int(claims["exp"])
    moment = dt.datetime.fromtimestamp(exp, dt.UTC).replace(tzinfo=None)
    return moment + dt.timedelta(seconds=LEEWAY_SECONDS)


def _accept_once(db: Session, issuer: str, jti: str, expires: dt.datetime) -> None:
    if len(jti) > 256:
        raise MintError(Code.INVALID_TOKEN, "invalid token: its jti is too long")
    try:
        # A savepoint: the other worker's row, committed first, fails only this insert.
        with db.begin_nested():
            db.add(OidcUsedToken(issuer=issuer, jti=jti, expires=expires))
    except sa.exc.IntegrityError:
        raise MintError(Code.INVALID_REUSE_TOKEN, "invalid token: already used") from None


def _forget_expired(db: Session, now: dt.datetime) -> None:
    """A used jti is worth keeping only while its JWT could still verify; a minted token
    only until it expires."""
    db.execute(sa.delete(OidcUsedToken).where(OidcUsedToken.expires < now))
    db.execute(sa.delete(PublisherToken).where(PublisherToken.expires < now))
