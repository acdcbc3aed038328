"""``wheelyard site``: the site flags and prohibited names, as on the /admin/ pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.services.audit import Origin
from wheelyard.services.projects import prohibited_names
from wheelyard.services.site import flags

# The command line acts as the operator: no account, no address (audited as such).
_ORIGIN = Origin()
_ON_OFF = click.Choice(["on", "off"])


@click.group()
def site() -> None:
    """Site flags (read-only mode, registration, two-factor) and prohibited names."""


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            yield session
        except (flags.FlagError, prohibited_names.ProhibitedNameError) as error:
            raise click.ClickException(str(error)) from error


def _said(changed: bool) -> str:
    return "is now" if changed else "was already"


@site.command("read-only")
@click.argument("state", type=_ON_OFF)
@click.option("--reason", default="", help="What every refused write says.")
@click.pass_obj
def read_only(settings: Settings, state: str, reason: str) -> None:
    """Refuse every write with 503 (on), or allow writes again (off); reads go on."""
    with _session(settings) as session:
        changed = flags.set_read_only(session, state == "on", reason, actor_id=None, origin=_ORIGIN)
    click.echo(f"read-only mode {_said(changed)} {state} (workers follow within seconds)")


@site.command("registration")
@click.argument("state", type=click.Choice(["open", "closed"]))
@click.pass_obj
def registration(settings: Settings, state: str) -> None:
    """Let anyone sign up (open), or only admins make accounts (closed)."""
    with _session(settings) as session:
        changed = flags.set_registration(session, state == "open", actor_id=None, origin=_ORIGIN)
    click.echo(f"registration {_said(changed)} {state}")


@site.command("require-2fa")
@click.argument("state", type=_ON_OFF)
@click.pass_obj
def require_2fa(settings: Settings, state: str) -> None:
    """Require two-factor login of everyone who uploads (on), or not site-wide (off)."""
    with _session(settings) as session:
        changed = flags.set_require_2fa(session, state == "on", actor_id=None, origin=_ORIGIN)
    click.echo(f"two-factor for every uploader {_said(changed)} {state}")


@site.command("show")
@click.pass_obj
def show(settings: Settings) -> None:
    """The flags as the workers see them."""
    with _session(settings) as session:
        current = flags.read(session)
    click.echo(f"read-only: {current.read_only or 'off'}")
    registration = current.registration_open(settings.registration_open)
    click.echo(f"registration: {'open' if registration else 'closed'}")
    click.echo(f"two-factor for every uploader: {'on' if current.require_2fa else 'off'}")


@site.command("prohibit")
@click.argument("name")
@click.option("--reason", required=True, help="What a refused upload says.")
@click.pass_obj
def prohibit(settings: Settings, name: str, reason: str) -> None:
    """Refuse every upload that would create the project NAME."""
    with _session(settings) as session:
        entry = prohibited_names.prohibit(session, name, reason, actor_id=None, origin=_ORIGIN)
        click.echo(f"{entry.name} is prohibited: {entry.reason}")


@site.command("allow")
@click.argument("name")
@click.pass_obj
def allow(settings: Settings, name: str) -> None:
    """Let uploads create the project NAME again."""
    with _session(settings) as session:
        prohibited_names.allow(session, name, actor_id=None, origin=_ORIGIN)
    click.echo(f"{name} may be created again")


@site.command("prohibited")
@click.pass_obj
def prohibited(settings: Settings) -> None:
    """Every prohibited name with its reason."""
    with _session(settings) as session:
        for entry in prohibited_names.all_names(session):
            click.echo(f"{entry.name}: {entry.reason}")
