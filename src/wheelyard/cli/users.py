"""``wheelyard user``: accounts made by an operator."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.user import User
from wheelyard.services.accounts import site_admin, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin


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


_ORIGIN = Origin()


def _change(settings: Settings, email: str, change: Callable[[Session, User], str]) -> None:
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            message = change(session, site_admin.find(session, email))
        except site_admin.SiteAdminError as error:
            raise click.ClickException(str(error)) from error
    click.echo(message)


@user.command("deactivate")
@click.argument("email")
@click.pass_obj
def user_deactivate(settings: Settings, email: str) -> None:
    """No more logins, tokens or uploads for EMAIL; its sessions end."""

    def change(session: Session, account: User) -> str:
        done = site_admin.set_active(session, account, False, actor_id=None, origin=_ORIGIN)
        return f"{account.email} {'is now' if done else 'was already'} deactivated"

    _change(settings, email, change)


@user.command("reactivate")
@click.argument("email")
@click.pass_obj
def user_reactivate(settings: Settings, email: str) -> None:
    """Let a deactivated EMAIL log in again."""

    def change(session: Session, account: User) -> str:
        done = site_admin.set_active(session, account, True, actor_id=None, origin=_ORIGIN)
        return f"{account.email} {'is now' if done else 'was already'} active"

    _change(settings, email, change)


@user.command("reset-2fa")
@click.argument("email")
@click.pass_obj
def user_reset_2fa(settings: Settings, email: str) -> None:
    """Turn off the two-factor login of EMAIL (a lost authenticator)."""

    def change(session: Session, account: User) -> str:
        done = site_admin.reset_two_factor(session, account, actor_id=None, origin=_ORIGIN)
        return f"two-factor login of {account.email} {'is reset' if done else 'was off'}"

    _change(settings, email, change)


@user.command("admin")
@click.argument("email")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_obj
def user_admin(settings: Settings, email: str, state: str) -> None:
    """Make EMAIL a site admin (on), or no longer one (off)."""

    def change(session: Session, account: User) -> str:
        done = site_admin.set_admin(session, account, state == "on", actor_id=None, origin=_ORIGIN)
        what = "a site admin" if state == "on" else "no site admin"
        return f"{account.email} {'is now' if done else 'was already'} {what}"

    _change(settings, email, change)


@user.command("remove")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def user_remove(settings: Settings, email: str, yes: bool) -> None:
    """Delete the account EMAIL with its API tokens and roles (the audit trail stays)."""
    if not yes:
        click.confirm(f"Remove {email} and its API tokens?", abort=True)

    def change(session: Session, account: User) -> str:
        tokens = site_admin.remove(session, account, actor_id=None, origin=_ORIGIN)
        return f"removed {account.email} and {tokens} API token(s)"

    _change(settings, email, change)
