"""``wheelyard retention`` (the rules) and ``wheelyard cleanup`` (applying them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from wheelyard.app import CHANGE_SIGNAL
from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.package import Package
from wheelyard.services.audit import Origin
from wheelyard.services.index.page_cache import ChangeSignal
from wheelyard.services.projects import packages, retention
from wheelyard.storage.factory import create_storage

# The command line acts as the operator: no account, no address (audited as such).
_ORIGIN = Origin()


@click.group("retention")
def retention_group() -> None:
    """Retention rules: how long pre-releases and dev releases stay."""


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        try:
            yield session
        except retention.RetentionError as error:
            raise click.ClickException(str(error)) from error


def _project(session: Session, name: str | None) -> Package | None:
    if name is None:
        return None
    package = packages.find_package(session, name)
    if package is None:
        raise click.ClickException(f"there is no project named {name!r}")
    return package


def _whose(name: str | None) -> str:
    return f"project {name}" if name else "site-wide"


@retention_group.command("set")
@click.option("--project", "project_name", help="The project (default: the site-wide rule).")
@click.option("--days", type=int, required=True, help="Remove pre-releases older than this.")
@click.option("--keep", type=int, required=True, help="Always keep this many newest ones.")
@click.pass_obj
def retention_set(settings: Settings, project_name: str | None, days: int, keep: int) -> None:
    """Set the rule of one project, or the site-wide rule."""
    with _session(settings) as session:
        package = _project(session, project_name)
        rule = retention.set_rule(
            session, package, days=days, keep=keep, actor_id=None, origin=_ORIGIN
        )
        click.echo(rule.describe())


@retention_group.command("show")
@click.pass_obj
def retention_show(settings: Settings) -> None:
    """Every rule: the site-wide one, then the projects' own."""
    with _session(settings) as session:
        rules = retention.all_rules(session)
    if not rules:
        click.echo("no retention rules: cleanup removes nothing")
    for rule in rules:
        click.echo(f"{_whose(rule.project_id)}: {rule.days} days, keep {rule.keep}")


@retention_group.command("clear")
@click.option("--project", "project_name", help="The project (default: the site-wide rule).")
@click.pass_obj
def retention_clear(settings: Settings, project_name: str | None) -> None:
    """Remove the rule of one project (the site-wide rule applies to it again), or the
    site-wide rule."""
    with _session(settings) as session:
        package = _project(session, project_name)
        cleared = retention.clear_rule(session, package, actor_id=None, origin=_ORIGIN)
    whose = _whose(package.id if package is not None else None)
    if not cleared:
        raise click.ClickException(f"there is no {whose} retention rule")
    click.echo(f"{whose} retention rule cleared")


@click.command("cleanup")
@click.option("--apply", "apply_", is_flag=True, help="Remove them (default: only list them).")
@click.pass_obj
def cleanup(settings: Settings, apply_: bool) -> None:
    """Remove the pre-releases and dev releases the retention rules say have had their day.

    Without --apply, only lists what would be removed.
    """
    with _session(settings) as session:
        removals = retention.plan(session)
        blobs = retention.apply(session, removals, origin=_ORIGIN) if apply_ else []
    verb = "removed" if apply_ else "would remove"
    for removal in removals:
        click.echo(f"{verb} {removal.line()}: {removal.rule.describe()}")
    if apply_ and removals:
        # The server's workers on this machine drop the pages at their next request, as
        # after a deletion on the manage page; other machines follow the journal.
        if settings.var_dir is not None:
            ChangeSignal(settings.var_dir / CHANGE_SIGNAL).raise_()
        # Committed: only now may the blobs go.
        storage = create_storage(settings)
        for path in blobs:
            try:
                storage.delete(path)
            except Exception as error:  # any backend's failure: the rows are gone already
                click.echo(f"could not delete blob {path}: {error}", err=True)
    if apply_:
        click.echo(f"{len(removals)} release(s) removed")
    else:
        click.echo(f"{len(removals)} release(s) to remove; --apply removes them")
