"""A database that cannot be reached: 503 with Retry-After, not a 500; other errors stay 500s."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wheelyard.web.errors import BUSY_RETRY_AFTER, DATABASE_RETRY_AFTER


def failing_sessions(error: Exception) -> sessionmaker[Session]:
    """A session factory whose every session fails with ``error`` on its first query."""
    engine = sa.create_engine("sqlite://")

    @sa.event.listens_for(engine, "before_cursor_execute")
    def fail(*_args: object) -> None:
        raise error

    return sessionmaker(bind=engine)


@pytest.mark.parametrize("path", ["/pypi/demo/json", "/packages/ab/cd/x/demo-1.0.tar.gz", "/"])
def test_an_unreachable_database_is_a_503_with_retry_after(app: Starlette, path: str) -> None:
    down = sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("refused"))
    app.state.sessions = failing_sessions(down)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER)
    assert "database is unavailable" in response.text


@pytest.mark.parametrize(
    "cause",
    [
        sqlite3.OperationalError("database is locked"),
        psycopg.errors.LockNotAvailable("could not obtain lock on row"),
        psycopg.errors.SerializationFailure("could not serialize access"),
    ],
)
@pytest.mark.parametrize("path", ["/pypi/demo/json", "/project/demo/", "/"])
def test_a_busy_database_is_a_503_with_retry_after(
    app: Starlette, path: str, cause: Exception
) -> None:
    busy = sa.exc.OperationalError("UPDATE x", {}, cause)
    app.state.sessions = failing_sessions(busy)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(BUSY_RETRY_AFTER)
    assert "busy" in response.text


def test_other_database_errors_are_still_500s(app: Starlette) -> None:
    broken = sa.exc.ProgrammingError("SELECT 1", {}, psycopg.errors.UndefinedTable("no table"))
    app.state.sessions = failing_sessions(broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/pypi/demo/json")
    assert response.status_code == 500
    # Rendered once, by the outermost layer: the security headers come exactly once.
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
