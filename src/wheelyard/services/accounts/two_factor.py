"""Two-factor login with TOTP (RFC 6238) authenticator apps, and single-use recovery codes.

Enrolment keeps a pending secret until a code from the app confirms it, so a half-finished
set-up never locks anyone out. Each accepted TOTP code moves ``totp_last_counter`` on, so a
code that was seen (over a shoulder, in a proxy log) cannot be used again.

Both secrets are stored sealed (services/accounts/sealed.py); one stored in plain text, or
sealed under an old secret key, is sealed again under the current key the next time it is
read.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from typing import Any, cast

import pyotp
import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.recovery_code import RecoveryCode
from wheelyard.data.user import User
from wheelyard.services import audit, clock
from wheelyard.services.accounts import rate_limit
from wheelyard.services.accounts.sealed import SecretBox, Unreadable
from wheelyard.services.audit import Origin

log = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
# 10 random bytes: 80 bits, 16 base32 characters, written in four groups of four.
_RECOVERY_CODE_BYTES = 10
_RECOVERY_CODE_LENGTH = 16
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_DIGITS = 6
# Codes from the step before and after count too: phones' clocks drift, people type slowly.
_ALLOWED_DRIFT_STEPS = 1


class TwoFactorError(ValueError):
    """A two-factor change that cannot be made; the message is for the user."""


class Method(enum.StrEnum):
    TOTP = "authenticator app"
    RECOVERY_CODE = "recovery code"


@dataclass(frozen=True)
class CodeCheck:
    """A code was right (``method``), wrong (neither set) or not checked (``limit``)."""

    method: Method | None = None
    limit: rate_limit.Limit | None = None


def is_enabled(user: User) -> bool:
    return user.totp_secret is not None


def pending_secret(user: User, box: SecretBox) -> str:
    """The secret being set up for ``user``, made on first asking."""
    if user.totp_pending_secret is None:
        secret = pyotp.random_base32()
        user.totp_pending_secret = box.seal(secret)
        return secret
    opened = box.open(user.totp_pending_secret)
    if opened.stale:
        user.totp_pending_secret = box.seal(opened.value)
    return opened.value


def _active_secret(user: User, box: SecretBox) -> str | None:
    """The confirmed secret in plain text, sealed again first if stored stale; None when no
    key opens it (logged: the operator dropped an old secret key still in use)."""
    assert user.totp_secret is not None
    try:
        opened = box.open(user.totp_secret)
    except Unreadable:
        log.error(
            "the two-factor secret of user %s cannot be opened: list the secret key it was "
            "sealed with in WHEELYARD_OLD_SECRET_KEYS",
            user.id,
        )
        return None
    if opened.stale:
        user.totp_secret = box.seal(opened.value)
    return opened.value


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """The QR code for ``uri`` as an SVG data URI: an <img> the page's CSP allows."""
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode("ascii")


def formatted_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an app that cannot scan."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _totp_code(code: str) -> str | None:
    digits = "".join(code.split())
    return digits if len(digits) == _DIGITS and digits.isascii() and digits.isdigit() else None


def _recovery_code(code: str) -> str | None:
    letters = "".join(code.split()).replace("-", "").lower()
    if len(letters) != _RECOVERY_CODE_LENGTH or not set(letters) <= _BASE32:
        return None
    return letters


def _hash_recovery_code(normalized: str) -> str:
    return hashlib.sha256(normalized.encode()).hexdigest()


def _matching_step(secret: str, code: str, after: int | None, now: float) -> int | None:
    """The time step whose code is ``code``, if it is recent and newer than ``after``."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _ALLOWED_DRIFT_STEPS, current + _ALLOWED_DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(
    db: Session,
    user: User,
    code: str,
    *,
    box: SecretBox,
    origin: Origin,
    now: float | None = None,
) -> list[str]:
    """Turn two-factor login on once ``code`` matches the pending secret.

    Returns the new recovery codes, in the only form they are ever seen in.
    """
    if is_enabled(user):
        raise TwoFactorError("Two-factor login is already on.")
    secret: str | None = None
    if user.totp_pending_secret is not None:
        try:
            secret = box.open(user.totp_pending_secret).value
        except Unreadable:
            secret = None  # made under a key now gone: the page shows a new one to scan
            user.totp_pending_secret = None
    digits = _totp_code(code)
    step = None
    if secret is not None and digits is not None:
        step = _matching_step(secret, digits, None, clock.timestamp() if now is None else now)
    if secret is None or step is None:
        raise TwoFactorError(
            "That code does not match. Check the time on your phone and enter the code the "
            "app shows now."
        )
    user.totp_secret = box.seal(secret)
    user.totp_pending_secret = None
    user.totp_last_counter = step
    codes = replace_recovery_codes(db, user)
    audit.record(db, audit.Action.TWO_FACTOR_ENABLED, origin=origin, user_id=user.id)
    return codes


def replace_recovery_codes(db: Session, user: User) -> list[str]:
    """Fresh recovery codes for ``user``; the old ones stop working."""
    db.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_bytes(_RECOVERY_CODE_BYTES)
        normalized = base64.b32encode(raw).decode("ascii").lower()
        db.add(RecoveryCode(user_id=user.id, hashed_code=_hash_recovery_code(normalized)))
        codes.append("-".join(normalized[i : i + 4] for i in range(0, len(normalized), 4)))
    db.flush()
    return codes


def remaining_recovery_codes(db: Session, user: User) -> int:
    query = sa.select(sa.func.count()).where(RecoveryCode.user_id == user.id)
    return db.scalar(query.select_from(RecoveryCode)) or 0


def check_code(
    db: Session,
    user: User,
    code: str,
    *,
    box: SecretBox,
    origin: Origin,
    purpose: str,
    now: float | None = None,
) -> CodeCheck:
    """Check a TOTP or recovery code of a user with two-factor login on.

    Refused unchecked while the account or the client has too many wrong codes. A wrong code
    is recorded (``purpose`` says where it was typed) before it is reported, so the caller
    commits its transaction whatever the outcome; a recovery code is used up.
    """
    if user.totp_secret is None:
        raise TwoFactorError("Two-factor login is not on for this account.")
    limit = rate_limit.two_factor_limit_reached(db, user_id=user.id, ip_address=origin.ip_address)
    if limit is not None:
        return CodeCheck(limit=limit)
    digits = _totp_code(code)
    secret = _active_secret(user, box)
    if digits is not None and secret is not None:
        moment = clock.timestamp() if now is None else now
        step = _matching_step(secret, digits, user.totp_last_counter, moment)
        if step is not None:
            user.totp_last_counter = step
            return CodeCheck(method=Method.TOTP)
    recovery = _recovery_code(code)
    if recovery is not None and _use_recovery_code(db, user, recovery):
        audit.record(
            db, audit.Action.RECOVERY_CODE_USED, origin=origin, user_id=user.id, detail=purpose
        )
        return CodeCheck(method=Method.RECOVERY_CODE)
    audit.record(db, audit.Action.TWO_FACTOR_FAILED, origin=origin, user_id=user.id, detail=purpose)
    return CodeCheck()


def _use_recovery_code(db: Session, user: User, normalized: str) -> bool:
    # One DELETE decides: of two requests racing with the same code, only one removes the row.
    result = db.execute(
        sa.delete(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.hashed_code == _hash_recovery_code(normalized),
        )
    )
    return cast(sa.CursorResult[Any], result).rowcount == 1


def disable(db: Session, user: User, *, origin: Origin) -> None:
    """Turn two-factor login off (the caller has checked a current code)."""
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_counter = None
    db.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(db, audit.Action.TWO_FACTOR_DISABLED, origin=origin, user_id=user.id)
