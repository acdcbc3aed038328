"""``wheelyard db``: the schema, built and changed only by migrations."""

from __future__ import annotations

import click

from wheelyard.cli.base import upgrade_database
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine
from wheelyard.services.ops import schema


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply every pending migration."""
    upgrade_database(settings)
    click.echo("database is at the newest revision")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.pass_obj
def db_revision(settings: Settings, message: str) -> None:
    """Autogenerate a migration from the difference between models and database."""
    engine = create_engine(settings.database_url)
    try:
        schema.revision(engine, message)
    finally:
        engine.dispose()
