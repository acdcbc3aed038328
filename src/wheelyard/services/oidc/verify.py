"""A CI job's OIDC token (a JWT) checked: issuer, signature, audience and times.

PyJWT does the JOSE work; this module only decides which issuer and key to trust. The
issuer is read from the token before its signature is checked, to know whose keys to ask
for, and is trusted only if it is one of ``issuers``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import jwt

from wheelyard.services.oidc.errors import Code, MintError
from wheelyard.services.oidc.keys import IssuerKeys, NoKey

# The clocks of the CI runner and this server may disagree a little.
LEEWAY_SECONDS = 30
# Asymmetric signatures only: "none" or an HMAC keyed with a public key must never verify.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512", "EdDSA"]
MAX_TOKEN_LENGTH = 16 * 1024


def unverified_issuer(token: str) -> str:
    """The ``iss`` the token claims, not yet believed; MintError if it is no JWT."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise MintError(Code.INVALID_PAYLOAD, "the token is too long")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise MintError(Code.INVALID_PAYLOAD, f"malformed token: {error}") from error
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise MintError(Code.INVALID_PAYLOAD, "the token names no issuer")
    return issuer


def verified_claims(
    token: str, *, keys: IssuerKeys, audience: str, issuers: Collection[str]
) -> dict[str, Any]:
    """The token's claims once its issuer is trusted and its signature, ``aud``, ``exp``,
    ``nbf`` and ``iat`` hold; MintError otherwise."""
    issuer = unverified_issuer(token)
    if issuer not in issuers:
        raise MintError(Code.INVALID_PAYLOAD, f"unknown trusted publishing issuer {issuer!r}")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise MintError(Code.INVALID_PAYLOAD, f"malformed token: {error}") from error
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise MintError(Code.INVALID_TOKEN, "malformed key id")
    try:
        key = keys.key(issuer, kid)
    except NoKey as error:
        raise MintError(Code.INVALID_TOKEN, f"cannot verify the token: {error}") from error
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_iat": True},
        )
    except jwt.PyJWTError as error:
        raise MintError(Code.INVALID_TOKEN, f"invalid token: {error}") from error
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise MintError(Code.INVALID_TOKEN, "invalid token: its jti is not a string")
    return claims
