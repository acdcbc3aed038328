"""``wheelyard project``: settings of one project."""

from __future__ import annotations

import click

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.package import ProjectStatus, Visibility
from wheelyard.services.accounts import site_admin as account_admin
from wheelyard.services.audit import Origin
from wheelyard.services.projects import admin, packages, site_admin
from wheelyard.services.projects import status as project_status_service
from wheelyard.storage.factory import create_storage


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


@project.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice([s.value for s in ProjectStatus]))
@click.option("--reason", default="", help="Shown to installers and on the project page.")
@click.pass_obj
def project_status(settings: Settings, name: str, status: str, reason: str) -> None:
    """Give project NAME a PEP 792 status: active, archived, deprecated or quarantined."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            package = site_admin.project(session, name)
            changed = project_status_service.set_status(
                session, package, ProjectStatus(status), reason, actor=None, origin=Origin()
            )
        except (site_admin.SiteProjectError, project_status_service.StatusError) as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"{package.name} {'is now' if changed else 'was already'} {status}")


@project.command("transfer")
@click.argument("name")
@click.argument("email")
@click.pass_obj
def project_transfer(settings: Settings, name: str, email: str) -> None:
    """Make the account EMAIL the one owner of project NAME."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            package = site_admin.project(session, name)
            new_owner = account_admin.find(session, email)
            before = site_admin.transfer(
                session, package, new_owner, actor_id=None, origin=Origin()
            )
        except (site_admin.SiteProjectError, account_admin.SiteAdminError) as error:
            raise click.ClickException(str(error)) from error
        click.echo(
            f"{new_owner.email} owns {package.name} (before: {', '.join(before) or 'nobody'})"
        )


@project.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def project_delete(settings: Settings, name: str, yes: bool) -> None:
    """Delete project NAME with every release and file (their filenames are never reused)."""
    if not yes:
        click.confirm(f"Delete {name} with all its releases and files?", abort=True)
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            package = site_admin.project(session, name)
        except site_admin.SiteProjectError as error:
            raise click.ClickException(str(error)) from error
        shown = package.name
        blobs = site_admin.delete(session, package, actor_id=None, origin=Origin())
    # Committed: only now may the blobs go.
    storage = create_storage(settings)
    for path in blobs:
        try:
            storage.delete(path)
        except Exception as error:  # any backend's failure: the rows are gone already
            click.echo(f"could not delete blob {path}: {error}", err=True)
    click.echo(f"deleted {shown} and {len(blobs)} blob(s)")
