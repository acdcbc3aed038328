"""``wheelyard project``: settings of one project."""

from __future__ import annotations

import click

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.package import Visibility
from wheelyard.services.audit import Origin
from wheelyard.services.projects import admin, packages


@click.group()
def project() -> None:
    """Projects."""


@project.command("visibility")
@click.argument("name")
@click.argument("visibility", type=click.Choice([v.value for v in Visibility]))
@click.pass_obj
def project_visibility(settings: Settings, name: str, visibility: str) -> None:
    """Make project NAME public, or private (seen only by those with a role on it)."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        package = packages.find_package(session, name)
        if package is None:
            raise click.ClickException(f"there is no project named {name!r}")
        changed = admin.set_visibility(
            session, package, Visibility(visibility), actor=None, origin=Origin()
        )
        done = "is now" if changed else "was already"
        click.echo(f"{package.name} {done} {visibility}")
