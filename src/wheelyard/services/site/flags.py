"""Site flags: read-only mode, registration open or closed, two-factor for every uploader.

Stored in ``site_flags`` so that every worker on every machine sees one value. Each worker
keeps what it read for a few seconds (``FlagCache``): the read-only check runs on every
write request, and a database read per request for a value that changes once a month is
waste. A change made by this worker is seen here at once; by the others within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.site_flag import SiteFlag
from wheelyard.services import audit
from wheelyard.services.audit import Origin

READ_ONLY = "read_only"  # the reason shown, present while the site is read-only
REGISTRATION = "registration"  # "open" or "closed"; absent: as WHEELYARD_REGISTRATION says
REQUIRE_2FA = "require_2fa"  # "on" while every uploader needs two-factor login
MAX_REASON_LENGTH = 1000
DEFAULT_READ_ONLY_REASON = "The index is in read-only mode for maintenance."
# How long a worker trusts what it read: the longest another worker lags behind a change.
CACHE_SECONDS = 5.0


class FlagError(ValueError):
    """A flag value that cannot be set; the message is for the admin."""


@dataclass(frozen=True)
class Flags:
    # The reason writes are refused with, or None while writes are allowed.
    read_only: str | None = None
    # Whether anyone may sign up; None: the environment's setting decides.
    registration: bool | None = None
    require_2fa: bool = False

    def registration_open(self, default: bool) -> bool:
        return default if self.registration is None else self.registration


def read(db: Session) -> Flags:
    rows = db.execute(sa.select(SiteFlag.name, SiteFlag.value))
    values: dict[str, str] = {row.name: row.value for row in rows}
    registration = values.get(REGISTRATION)
    return Flags(
        read_only=values.get(READ_ONLY),
        registration=None if registration is None else registration == "open",
        require_2fa=values.get(REQUIRE_2FA) == "on",
    )


def _put(db: Session, name: str, value: str | None) -> bool:
    """Store (or with None, remove) one flag; False when it already was so."""
    row = db.get(SiteFlag, name)
    if value is None:
        if row is None:
            return False
        db.delete(row)
        return True
    if row is not None and row.value == value:
        return False
    if row is None:
        db.add(SiteFlag(name=name, value=value))
    else:
        row.value = value
    return True


def set_read_only(
    db: Session, on: bool, reason: str = "", *, actor_id: int | None, origin: Origin
) -> bool:
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise FlagError(f"The reason is longer than {MAX_REASON_LENGTH} characters.")
    value = (reason or DEFAULT_READ_ONLY_REASON) if on else None
    changed = _put(db, READ_ONLY, value)
    if changed:
        audit.record(
            db,
            audit.Action.SITE_READ_ONLY_ON if on else audit.Action.SITE_READ_ONLY_OFF,
            origin=origin,
            user_id=actor_id,
            detail=value,
        )
    return changed


def set_registration(db: Session, open_: bool, *, actor_id: int | None, origin: Origin) -> bool:
    changed = _put(db, REGISTRATION, "open" if open_ else "closed")
    if changed:
        audit.record(
            db,
            audit.Action.SITE_REGISTRATION_OPENED
            if open_
            else audit.Action.SITE_REGISTRATION_CLOSED,
            origin=origin,
            user_id=actor_id,
        )
    return changed


def set_require_2fa(db: Session, on: bool, *, actor_id: int | None, origin: Origin) -> bool:
    changed = _put(db, REQUIRE_2FA, "on" if on else None)
    if changed:
        audit.record(
            db,
            audit.Action.SITE_REQUIRE_2FA_ON if on else audit.Action.SITE_REQUIRE_2FA_OFF,
            origin=origin,
            user_id=actor_id,
        )
    return changed


class FlagCache:
    """This worker's copy of the flags, read again once it is ``ttl`` seconds old."""

    def __init__(
        self,
        load: Callable[[], Flags],
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._flags: Flags | None = None
        self._read_at = float("-inf")

    def current(self) -> Flags:
        now = self._clock()
        flags = self._flags
        if flags is not None and now - self._read_at < self._ttl:
            return flags
        with self._lock:
            if self._flags is not None and self._clock() - self._read_at < self._ttl:
                return self._flags
            flags = self._load()
            self._flags, self._read_at = flags, self._clock()
            return flags

    def forget(self) -> None:
        """Read again on the next ask: this worker just changed a flag."""
        with self._lock:
            self._flags, self._read_at = None, float("-inf")
