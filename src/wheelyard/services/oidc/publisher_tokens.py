"""Uploads with a minted token: which token a secret is, and which publisher it uploads as."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.services import clock
from wheelyard.services.accounts.tokens import hash_secret
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.minting import PREFIX

_MAX_SECRET_LENGTH = 200


def is_publisher_secret(secret: str) -> bool:
    return secret.startswith(PREFIX)


def find_valid(db: Session, secret: str) -> PublisherToken | None:
    """The unexpired minted token a secret stands for; None if there is none."""
    if not is_publisher_secret(secret) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    token = db.scalars(
        sa.select(PublisherToken).where(PublisherToken.hashed_secret == hash_secret(secret))
    ).one_or_none()
    if token is None or token.expires <= clock.now():
        return None
    return token


def publisher_for(db: Session, token: PublisherToken, project_id: str) -> TrustedPublisher | None:
    """The project's publisher the token's claims match now; None when none does."""
    found = publishers.matching(db, token.issuer, token.claims, project_id)
    return found[0] if found else None


def provenance(publisher: TrustedPublisher) -> str:
    """What a file's page says of where it came from: ``OWNER/REPO by release.yml``."""
    if publisher.kind is PublisherKind.OIDC:
        return publishers.describe(publisher)
    return f"{publisher.repository} by {publisher.workflow}"
