"""The request owns the transaction: one session, committed when the work succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from wheelyard.data import db_session

# Requests that only read: they never need SQLite's write lock (see db_session.transaction).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def transaction(request: HTTPConnection, *, writes: bool | None = None) -> Iterator[Session]:
    """``writes`` says whether the work writes; by default, whether the method is one that
    may (a POST that only reads, as an XML-RPC call, says False)."""
    if writes is None:
        writes = request.scope.get("method", "GET") not in READ_ONLY_METHODS
    with db_session.transaction(request.app.state.sessions, writes=writes) as db:
        yield db
