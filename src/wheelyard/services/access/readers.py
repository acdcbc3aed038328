"""Readers of a private index: the account behind HTTP basic credentials, remembered briefly.

pip and uv send their credentials with every request. Checking a token is one indexed
lookup, a password an argon2 hash: far too slow for every file of an install. So a worker
remembers each credential it verified for ``REMEMBER_SECONDS`` from the moment the check
began: a revoked token, a changed password or a disabled account stops working everywhere
within that time, with no message between workers or nodes. The memory holds sha256 digests
of the credentials, never the credentials, and at most ``MAX_REMEMBERED`` of them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from wheelyard.services.access.visibility import Reader
from wheelyard.services.accounts import logins, tokens, users
from wheelyard.services.accounts.credentials import Credentials
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin

# Within the 2 s a revocation may take to reach every worker (the page caches' bound).
REMEMBER_SECONDS = 1.0
MAX_REMEMBERED = 10_000

T = TypeVar("T")


def reader_id(
    db: Session,
    passwords: Passwords,
    credentials: Credentials,
    *,
    password_auth: bool,
    origin: Origin,
) -> int | None:
    """The id of the active account the credentials stand for; None when they stand for
    none. Any token reads, whatever its scope; a password only while ``password_auth``.
    A wrong password counts towards the login limits (and is audited) as on the login page.
    """
    found = reader_for(db, passwords, credentials, password_auth=password_auth, origin=origin)
    return found.user_id if found is not None else None


def reader_for(
    db: Session,
    passwords: Passwords,
    credentials: Credentials,
    *,
    password_auth: bool,
    origin: Origin,
) -> Reader | None:
    """As ``reader_id``, with the project a token is limited to (it reads no other
    private project)."""
    if credentials.is_token:
        token = tokens.find_valid_token(db, credentials.password)
        return Reader(token.user_id, token.package_id) if token is not None else None
    if not password_auth or not credentials.password:
        return None
    if len(credentials.password) > users.MAX_PASSWORD_LENGTH:
        return None
    attempt = logins.attempt_login(
        db, passwords, email=credentials.username, password=credentials.password, origin=origin
    )
    # An account with two-factor login reads with a token: a password alone is half of it.
    return Reader(attempt.user.id) if attempt.user is not None else None


class RememberedReaders(Generic[T]):
    """Credentials this worker verified lately, by digest: who they stand for, until when.

    An entry lives ``seconds`` from the moment its verification began. Past half of that it
    is due to be verified again while still in use (``claim_refresh``), so credentials
    read all the time never expire under load, where every request that met the expiry
    at once would otherwise check them again.
    """

    def __init__(
        self,
        *,
        seconds: float = REMEMBER_SECONDS,
        size: int = MAX_REMEMBERED,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._monotonic = monotonic
        # key -> (who, until, verified again from), the last None until it is claimed.
        self._entries: OrderedDict[bytes, tuple[T, float, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(authorization: bytes) -> bytes:
        return hashlib.sha256(authorization).digest()

    def now(self) -> float:
        return self._monotonic()

    def lookup(self, key: bytes) -> T | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            user_id, until, _claimed = entry
            if until <= self._monotonic():
                del self._entries[key]
                return None
            return user_id

    def remember(self, key: bytes, user_id: T, *, verified_at: float | None = None) -> None:
        """Remember ``user_id`` for ``key`` until ``seconds`` after ``verified_at`` (the
        moment the check began, so a revocation during the check is not outlived; now when
        left out)."""
        start = self._monotonic() if verified_at is None else verified_at
        with self._lock:
            self._entries[key] = (user_id, start + self.seconds, None)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def claim_refresh(self, key: bytes) -> bool:
        """True once per entry past half its life: the caller verifies it again."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            user_id, until, claimed = entry
            now = self._monotonic()
            if claimed is not None or until - now > self.seconds / 2:
                return False
            self._entries[key] = (user_id, until, now)
            return True

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
