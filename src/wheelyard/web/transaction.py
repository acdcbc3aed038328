"""The request owns the transaction: one session, committed when the work succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from wheelyard.data import db_session


@contextmanager
def transaction(request: HTTPConnection) -> Iterator[Session]:
    with db_session.transaction(request.app.state.sessions) as db:
        yield db
