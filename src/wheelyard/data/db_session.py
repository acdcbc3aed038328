"""Engine and session factory, built from Settings (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.data import __all_models  # noqa: F401 - registers every table


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
    # SAVEPOINTs and transactional DDL behave (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer writes; NORMAL is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Execution option naming how a SQLite transaction begins (see transaction()).
SQLITE_BEGIN = "wheelyard_sqlite_begin"


def _begin_sqlite(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # No JIT compilation and no parallel workers: every query here reads a few thousand rows
    # at most, but a row estimate too high (a project with many rows of other kinds) makes
    # PostgreSQL spend ~10 ms compiling a query that then runs in 3, or ~7 ms starting
    # workers for a 0.1 ms scan. A stats query at 100,000,000 downloads: 35 ms with both,
    # 9 with workers only, under 2 with neither.
    kwargs.setdefault(
        "connect_args", {"options": "-c jit=off -c max_parallel_workers_per_gather=0"}
    )
    return sa.create_engine(url, **kwargs)


# PostgreSQL's SQLSTATEs for a server that is shutting down, crashed or not ready yet.
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached now (down, restarting, the
    connection lost), rather than that the work itself failed.

    Such errors pass once the database is back: requests answer 503, and queued writes wait
    instead of being dropped. SQLite's "database is locked" is not one of them.
    """
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    # psycopg gives every server error a SQLSTATE; class 08 is "connection exception". A
    # connection that could not be made or broke on our side has none.
    sqlstate = getattr(error.orig, "sqlstate", False)
    if sqlstate is None:
        return isinstance(error, sa.exc.OperationalError)
    return isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in _SERVER_GOING_AWAY
    )


# PostgreSQL's SQLSTATEs for work that met another's locks: lock_not_available,
# serialization_failure, deadlock_detected.
_CONTENDED = frozenset({"55P03", "40001", "40P01"})


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` says other work held the database too long (SQLite's "database is
    locked" after its busy timeout, or a PostgreSQL lock conflict): the request may succeed
    if made again in a moment, so it is answered 503 with Retry-After, not 500."""
    if not isinstance(error, sa.exc.OperationalError | sa.exc.DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _CONTENDED
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def _ensure_sqlite_dir(url: str) -> None:
    database = sa.make_url(url).database
    if database and database != ":memory:":
        # Only the server's user may read it (two-factor secrets, password hashes).
        Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: views render objects after the transaction has committed.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session], *, writes: bool = True) -> Iterator[Session]:
    """One unit of work: committed if the block succeeds, rolled back if it raises.

    On SQLite a transaction that ``writes`` takes the write lock when it begins. A deferred
    one that reads first and writes later fails at once ("database is locked", whatever the
    busy timeout) if another connection committed in between; taking the lock up front makes
    writers wait their turn instead. Readers stay deferred, so they never wait for each other.
    """
    db = sessions()
    if writes:
        db.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()
