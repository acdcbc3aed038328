"""``wheelyard user``: accounts made by an operator."""

from __future__ import annotations

import click

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.services.accounts import users
from wheelyard.services.accounts.passwords import Passwords


@click.group()
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
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            account = users.create_user(
                session,
                passwords,
                name=name,
                email=email,
                password=password,
                # The operator vouches for the address: no link is mailed to check it.
                email_verified=True,
                is_admin=admin,
            )
        except users.AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"created user {account.id} <{account.email}>{' (admin)' if admin else ''}")
