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


@db.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The database to fill: empty (or new), e.g. postgresql+psycopg://user@host/wheelyard.",
)
@click.pass_obj
def db_copy(settings: Settings, target_url: str) -> None:
    """Copy every row of this index's database into another (SQLite to PostgreSQL or back).

    The target's schema is built by the migrations, then every table's rows go in, in one
    transaction; PostgreSQL's id sequences continue after the copied ids. Files stay in
    the same storage. Stop the server (or make it read-only) first: writes made during
    the copy are not in it.
    """
    import sqlalchemy as sa

    from wheelyard.services.ops import db_copy as copier

    try:
        target_display = sa.make_url(target_url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError as error:
        raise click.ClickException(f"not a database URL: {target_url!r}") from error
    source = create_engine(settings.database_url)
    target = create_engine(target_url)
    try:
        copied = copier.copy_database(source, target)
    except copier.CopyRefused as error:
        raise click.ClickException(str(error)) from error
    except sa.exc.OperationalError as error:
        raise click.ClickException(f"cannot reach a database: {error.orig}") from error
    finally:
        source.dispose()
        target.dispose()
    for table, count in sorted(copied.rows.items()):
        click.echo(f"{table}: {count:,} rows")
    click.echo(f"copied {copied.total:,} rows into {target_display}")
