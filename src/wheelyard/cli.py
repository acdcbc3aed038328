"""The ``wheelyard`` command: serve, db, user, import. Each command owns its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.services import migrations, tables, users
from wheelyard.services.passwords import Passwords


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """wheelyard: a self-hosted Python package index."""
    ctx.obj = Settings.from_env()


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _upgrade(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the index, creating and migrating the database first."""
    from granian import Granian
    from granian.constants import Interfaces

    _upgrade(settings)
    settings.storage_path.mkdir(parents=True, exist_ok=True)
    click.echo(f"wheelyard serving on http://{host}:{port}/ with {workers} worker(s)")
    Granian(
        "wheelyard.asgi:app_from_env",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
    ).serve()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply every pending migration."""
    _upgrade(settings)
    click.echo("database is at the newest revision")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.pass_obj
def db_revision(settings: Settings, message: str) -> None:
    """Autogenerate a migration from the difference between models and database."""
    engine = create_engine(settings.database_url)
    try:
        migrations.revision(engine, message)
    finally:
        engine.dispose()


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when not given.")
@click.option("--admin", is_flag=True, help="Give the account administrator rights.")
@click.pass_obj
def user_create(
    settings: Settings, name: str, email: str, password: str | None, admin: bool
) -> None:
    """Create an account that can log in."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.BadParameter("must not be empty", param_hint="--password")
    passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_cost)
    with _sessions(settings) as sessions, transaction(sessions) as session:
        try:
            account = users.create_user(
                session, passwords, name=name, email=email, password=password, is_admin=admin
            )
        except users.AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"created user {account.id} <{account.email}>{' (admin)' if admin else ''}")


def _print_counts(console: Console, settings: Settings) -> None:
    with _sessions(settings) as sessions, transaction(sessions) as session:
        counts = tables.row_counts(session)
    table = Table(title="rows per table")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
