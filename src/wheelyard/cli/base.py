"""The root command group and what every command shares: settings, sessions, schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.services.ops import row_counts, schema


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """wheelyard: a self-hosted Python package index."""
    # ``check`` reads the settings itself, to report every one that is wrong.
    if ctx.invoked_subcommand != "check":
        ctx.obj = Settings.from_env()


@contextmanager
def sessions_for(settings: Settings, *, migrate: bool = True) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database, brought to the newest revision first, as ``serve`` does:
    a command run before the first start (``user create`` on a fresh var dir) finds its
    tables instead of failing on "no such table".

    ``migrate=False`` for a command that must refuse a database without the schema rather
    than build one (``storage gc`` on an empty database would find every blob an orphan).
    """
    if migrate:
        upgrade_database(settings)
    engine = create_engine(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def upgrade_database(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


def print_row_counts(console: Console, settings: Settings) -> None:
    """The rows per table, as long-running imports end."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        counts = row_counts.row_counts(session)
    table = Table(title="rows per table")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
