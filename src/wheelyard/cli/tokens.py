"""``wheelyard token``: API tokens for uploads."""

from __future__ import annotations

import datetime as dt

import click

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.api_token import TokenScope
from wheelyard.data.db_session import transaction
from wheelyard.services import audit, clock
from wheelyard.services.access.roles import effective_role
from wheelyard.services.accounts import tokens, users
from wheelyard.services.projects import packages


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The account the token acts for.")
@click.option("--project", help="Limit the token to this project (default: all of theirs).")
@click.option("--description", default="created on the command line", show_default=True)
@click.option(
    "--scope",
    type=click.Choice([scope.value for scope in TokenScope]),
    default=TokenScope.UPLOAD.value,
    show_default=True,
    help="read: install only; upload: upload and install.",
)
@click.option(
    "--expires-in-days", type=click.IntRange(1, 3650), help="Default: the token never expires."
)
@click.pass_obj
def token_create(
    settings: Settings,
    email: str,
    project: str | None,
    description: str,
    scope: str,
    expires_in_days: int | None,
) -> None:
    """Create an API token and print it; the secret is the last line of the output."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        account = users.find_user_by_email(session, email)
        if account is None:
            raise click.ClickException(f"there is no account with the email {email!r}")
        package_id: str | None = None
        if project is not None:
            package = packages.find_package(session, project)
            if package is None:
                raise click.ClickException(f"there is no project named {project!r}")
            if effective_role(session, account.id, package.id) is None:
                raise click.ClickException(f"{account.email} does not maintain {package.name}")
            package_id = package.id
        expires = clock.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
        try:
            api_token, secret = tokens.create_token(
                session,
                account,
                description=description,
                package_id=package_id,
                expires=expires,
                scope=TokenScope(scope),
                role_checked=True,
            )
        except tokens.TokenError as error:
            raise click.ClickException(str(error)) from error
        audit.record(
            session,
            audit.Action.TOKEN_CREATED,
            user_id=account.id,
            package_id=package_id,
            detail=f"{tokens.describe(api_token)} (command line)",
        )
        reach = package_id or "all projects"
        click.echo(f"created {scope} token {api_token.id} for {account.email} ({reach})")
    # Printed only once the transaction has committed: a printed token always works.
    click.echo(secret)
