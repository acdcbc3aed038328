"""Alembic environment. Run through wheelyard.services.ops.schema, never from an ini file."""

from __future__ import annotations

from alembic import context

from wheelyard.data import __all_models  # noqa: F401 - registers every table
from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.services.ops.schema import include_name

config = context.config
target_metadata = SqlAlchemyBase.metadata


def run_migrations() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
