"""``wheelyard team``: teams of users and the roles they hold on projects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.maintainer import Role
from wheelyard.data.package import Package
from wheelyard.data.team import Team
from wheelyard.services.access import teams
from wheelyard.services.audit import Origin
from wheelyard.services.projects import packages

# The command line acts as the operator: no account, no address (audited as such).
_ORIGIN = Origin()
_ROLES = {role.value.lower(): role for role in Role}


@click.group()
def team() -> None:
    """Teams: named groups of users holding roles on projects."""


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            yield session
        except teams.TeamError as error:
            raise click.ClickException(str(error)) from error


def _team(session: Session, name: str) -> Team:
    found = teams.find(session, name)
    if found is None:
        raise click.ClickException(f"there is no team named {name!r}")
    return found


def _project(session: Session, name: str) -> Package:
    found = packages.find_package(session, name)
    if found is None:
        raise click.ClickException(f"there is no project named {name!r}")
    return found


@team.command("create")
@click.argument("name")
@click.pass_obj
def team_create(settings: Settings, name: str) -> None:
    """Create the team NAME."""
    with _session(settings) as session:
        created = teams.create(session, name, actor=None, origin=_ORIGIN)
        click.echo(f"created team {created.name}")


@team.command("add")
@click.argument("name")
@click.argument("email")
@click.pass_obj
def team_add(settings: Settings, name: str, email: str) -> None:
    """Add the account EMAIL to team NAME."""
    with _session(settings) as session:
        found = _team(session, name)
        member = teams.add_member(session, found, email, actor=None, origin=_ORIGIN)
        click.echo(f"added {member.email} to team {found.name}")


@team.command("remove")
@click.argument("name")
@click.argument("email")
@click.pass_obj
def team_remove(settings: Settings, name: str, email: str) -> None:
    """Remove the account EMAIL from team NAME."""
    with _session(settings) as session:
        found = _team(session, name)
        member = teams.remove_member(session, found, email, actor=None, origin=_ORIGIN)
        click.echo(f"removed {member.email} from team {found.name}")


@team.command("grant")
@click.argument("name")
@click.argument("project")
@click.argument("role", type=click.Choice(list(_ROLES)))
@click.pass_obj
def team_grant(settings: Settings, name: str, project: str, role: str) -> None:
    """Give team NAME the ROLE on PROJECT (or change the role it holds there)."""
    with _session(settings) as session:
        found, package = _team(session, name), _project(session, project)
        teams.grant(session, found, package, _ROLES[role], actor=None, origin=_ORIGIN)
        click.echo(f"team {found.name} is {_ROLES[role].value} of {package.name}")


@team.command("revoke")
@click.argument("name")
@click.argument("project")
@click.pass_obj
def team_revoke(settings: Settings, name: str, project: str) -> None:
    """Take away the role team NAME holds on PROJECT."""
    with _session(settings) as session:
        found, package = _team(session, name), _project(session, project)
        teams.revoke(session, found, package, actor=None, origin=_ORIGIN)
        click.echo(f"team {found.name} no longer holds a role on {package.name}")


@team.command("list")
@click.pass_obj
def team_list(settings: Settings) -> None:
    """Every team with its members and projects."""
    with _session(settings) as session:
        for found in teams.all_teams(session):
            members = ", ".join(user.email for user in teams.members_of(session, found))
            projects = ", ".join(
                f"{package.name} ({role.value})"
                for package, role in teams.projects_of(session, found)
            )
            click.echo(f"{found.name}: members {members or '-'}; projects {projects or '-'}")
