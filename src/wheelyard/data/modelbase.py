"""Declarative base, naming convention and the database-side clock every table uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class utcnow(FunctionElement[dt.datetime]):
    """SQL for the database's current time in UTC, as a naive timestamp: the database's clock.

    It fills ``created_date`` (server defaults, also in the migrations), and whatever is
    compared with those stamps reads it too (services.accounts.rate_limit), so both come
    from the same clock. Python code asks services.clock instead, the wall clock tests can
    set; this one they cannot. Every timestamp in wheelyard is naive UTC, on both
    databases, so values compare and sort the same wherever they came from.
    """

    type = sa.DateTime()
    inherit_cache = True


@compiles(utcnow, "postgresql")
def _utcnow_postgresql(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    return "TIMEZONE('utc', CURRENT_TIMESTAMP)"


@compiles(utcnow, "sqlite")
def _utcnow_sqlite(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    # CURRENT_TIMESTAMP has whole seconds only; keep milliseconds for ordering.
    return "(STRFTIME('%Y-%m-%d %H:%M:%f', 'now'))"


@compiles(utcnow)
def _utcnow_default(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


class SqlAlchemyBase(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def created_date_column() -> Mapped[dt.datetime]:
    """``created_date``: set by the database on insert, indexed for "what came in when"."""
    return mapped_column(sa.DateTime(), server_default=utcnow(), nullable=False, index=True)


# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids use INTEGER there.
BigIntegerKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
