"""Secrets kept at rest encrypted (TOTP seeds): sealed with a key derived from the secret key.

A database copy, a backup or a local user who can read the file then holds nothing that
makes valid codes. The key comes from WHEELYARD_SECRET_KEY through HKDF (its own ``info``,
so it is never the key that signs cookies); Fernet authenticates what it encrypts, so a
tampered value is refused rather than read wrongly.

Rotation: the keys in WHEELYARD_OLD_SECRET_KEYS still open what they sealed, and a value
opened with one (or stored in plain text, as before encryption) says ``stale``, so the
caller seals it again under the current key on that use.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Marks a sealed value; a stored value without it is an old plain-text one.
PREFIX = "fernet:"
_PURPOSE = b"wheelyard two-factor secrets"


class Unreadable(ValueError):
    """No key this server has opens the value: the secret key changed without listing the
    old one in WHEELYARD_OLD_SECRET_KEYS, or the value was altered."""


@dataclass(frozen=True)
class Opened:
    value: str
    stale: bool  # plain text, or sealed with an old key: seal it again


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    """Seals with the current secret key; opens with it or any old one."""

    def __init__(self, secret_key: str, old_keys: Sequence[str] = ()) -> None:
        self._current = _fernet(secret_key)
        self._old = MultiFernet([_fernet(key) for key in old_keys]) if old_keys else None

    def seal(self, value: str) -> str:
        return PREFIX + self._current.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str) -> Opened:
        if not stored.startswith(PREFIX):
            return Opened(stored, stale=True)
        token = stored.removeprefix(PREFIX).encode("ascii")
        try:
            return Opened(self._current.decrypt(token).decode(), stale=False)
        except InvalidToken:
            pass
        if self._old is not None:
            try:
                return Opened(self._old.decrypt(token).decode(), stale=True)
            except InvalidToken:
                pass
        raise Unreadable("no secret key this server has opens this value")
