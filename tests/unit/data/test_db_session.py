"""Telling a database that cannot be reached from work that failed."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors
import pytest
import sqlalchemy as sa

from wheelyard.data.db_session import create_engine, database_unavailable


def wrapped(kind: type[sa.exc.DBAPIError], orig: Exception) -> sa.exc.DBAPIError:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        # Refused or broken on our side: psycopg has no SQLSTATE for it.
        wrapped(sa.exc.OperationalError, psycopg.OperationalError("connection refused")),
        wrapped(sa.exc.OperationalError, psycopg.errors.ConnectionFailure("lost")),
        wrapped(sa.exc.OperationalError, psycopg.errors.AdminShutdown("shutting down")),
        wrapped(sa.exc.OperationalError, psycopg.errors.CrashShutdown("crashed")),
        wrapped(sa.exc.OperationalError, psycopg.errors.CannotConnectNow("starting up")),
        sa.exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ],
)
def test_a_database_that_cannot_be_reached_is_unavailable(error: sa.exc.DBAPIError) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        # Contention passes with a retry, not with waiting for a restart.
        wrapped(sa.exc.OperationalError, psycopg.errors.SerializationFailure("conflict")),
        wrapped(sa.exc.OperationalError, psycopg.errors.DeadlockDetected("deadlock")),
        wrapped(sa.exc.OperationalError, sqlite3.OperationalError("database is locked")),
        wrapped(sa.exc.IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
        wrapped(sa.exc.ProgrammingError, psycopg.errors.UndefinedTable("no such table")),
        ValueError("not a database error"),
    ],
)
def test_errors_of_the_work_itself_are_not_unavailability(error: Exception) -> None:
    assert not database_unavailable(error)


def test_postgresql_connections_neither_jit_compile_nor_start_workers(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                pytest.skip("PostgreSQL's settings")
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
            workers = connection.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar()
            assert workers == "0"
    finally:
        engine.dispose()
