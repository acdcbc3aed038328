"""Readiness: whether this server can do its work now (``/_health/ready``, ``wheelyard check``).

Each check answers for one dependency and says in a few words what failed, never more:
the readiness endpoint is open even on a private site, so a reason names the dependency
and the kind of failure, not a URL, a path or credentials.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.services.ops import schema
from wheelyard.storage.base import FileStorage

# Where the writable check puts its probe: outside the content-addressed layout
# (ab/cd/...), so nothing else ever names it, and removed at once.
PROBE_DIR = "_health"
PROBE_BYTES = b"wheelyard readiness probe\n"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def short_reason(error: BaseException) -> str:
    """The kind of failure and its first line, without the SQL, parameters or paths."""
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:200]


def migrations(db: Session) -> Check:
    """The database answers and its schema is at this wheelyard's newest revision."""
    current = schema.current_revision(db.connection())
    head = schema.head_revision()
    if current == head:
        return Check("migrations", True, f"at head ({head})")
    if current is None:
        return Check("migrations", False, f"no schema yet: {head} pending")
    if current in schema.known_revisions():
        return Check("migrations", False, f"at {current}, {head} pending")
    return Check("migrations", False, f"at {current}, which this version does not know")


def database(db: Session) -> Check:
    db.execute(sa.text("SELECT 1"))
    return Check("database", True, f"reachable ({db.get_bind().dialect.name})")


def storage_writable(storage: FileStorage) -> Check:
    """A small blob written, read back and removed."""
    path = f"{PROBE_DIR}/probe-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        storage.put(path, io.BytesIO(PROBE_BYTES))
        try:
            with storage.open(path) as stored:
                if stored.read() != PROBE_BYTES:
                    return Check("storage", False, "a blob written reads back different")
        finally:
            storage.delete(path)
    except Exception as error:
        return Check("storage", False, f"not writable: {short_reason(error)}")
    return Check("storage", True, "writable")
