"""``wheelyard publisher``: trusted publishers, the CI workflows that upload without secrets."""

from __future__ import annotations

import click

from wheelyard.cli.base import sessions_for
from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.data.trusted_publisher import PublisherKind
from wheelyard.services.accounts import users
from wheelyard.services.naming import normalize_name
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.publishers import PublisherError, PublisherSpec


@click.group()
def publisher() -> None:
    """Trusted publishers (PyPI's trusted publishing)."""


def _claims(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    claims = {}
    for value in values:
        name, sep, expected = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}")
        claims[name.strip()] = expected
    return claims


@publisher.command("add")
@click.argument("project")
@click.option("--github", "github", metavar="OWNER/REPO", help="A GitHub Actions workflow's repo.")
@click.option("--gitlab", "gitlab", metavar="NAMESPACE/PROJECT", help="A GitLab CI project.")
@click.option(
    "--workflow",
    metavar="FILE",
    help="GitHub: the workflow's file name (release.yml); GitLab: the CI file's path.",
)
@click.option("--environment", metavar="ENV", help="Only jobs running in this environment.")
@click.option("--owner-id", metavar="ID", help="GitHub: the owner's numeric id.")
@click.option(
    "--issuer",
    metavar="URL",
    help="The OIDC issuer: self-hosted GitLab or GitHub Enterprise, or any other issuer "
    "(then with --claim). It must be trusted (WHEELYARD_OIDC_ISSUERS).",
)
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="NAME=VALUE",
    callback=_claims,
    help="Any other issuer: a claim the token must carry, exactly (repeat for more).",
)
@click.option(
    "--owner",
    metavar="EMAIL",
    help="Pending publisher: the account that owns the project its first upload creates.",
)
@click.pass_obj
def publisher_add(
    settings: Settings,
    project: str,
    github: str | None,
    gitlab: str | None,
    workflow: str | None,
    environment: str | None,
    owner_id: str | None,
    issuer: str | None,
    claims: dict[str, str],
    owner: str | None,
) -> None:
    """Let a CI workflow upload to PROJECT; pending until the project exists."""
    if github and gitlab:
        raise click.UsageError("give --github or --gitlab, not both")
    if github or gitlab:
        if claims:
            raise click.UsageError("--claim is for other issuers, not GitHub or GitLab")
        kind = PublisherKind.GITHUB if github else PublisherKind.GITLAB
    elif issuer:
        kind = PublisherKind.OIDC
    else:
        raise click.UsageError(
            "give --github OWNER/REPO, --gitlab NAMESPACE/PROJECT or --issuer URL"
        )
    spec = PublisherSpec(
        kind=kind,
        repository=github or gitlab,
        workflow=workflow,
        environment=environment,
        owner_id=owner_id,
        issuer=issuer,
        claims=claims,
    )
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        owning: int | None = None
        if owner is not None:
            account = users.find_user_by_email(session, owner)
            if account is None:
                raise click.ClickException(f"there is no account with the email {owner!r}")
            owning = account.id
        try:
            added = publishers.add(
                session,
                project,
                spec,
                issuers=publishers.trusted_issuers(settings.oidc_issuers),
                added_by=owning,
                via="command line",
            )
        except PublisherError as error:
            raise click.ClickException(str(error)) from error
        described = publishers.describe(added)
        state = " (pending: creates the project on its first upload)" if added.pending else ""
        click.echo(
            f"added trusted publisher {added.id} to {added.project_name}: {described}{state}"
        )


@publisher.command("list")
@click.argument("project", required=False)
@click.pass_obj
def publisher_list(settings: Settings, project: str | None) -> None:
    """The trusted publishers of PROJECT, or of every project."""
    with sessions_for(settings) as sessions, transaction(sessions, writes=False) as session:
        found = (
            publishers.for_project(session, normalize_name(project))
            if project
            else publishers.all_publishers(session)
        )
        for row in found:
            pending = "  (pending)" if row.pending else ""
            click.echo(
                f"{row.id}\t{row.project_name}\t{row.kind.value}\t{publishers.describe(row)}"
                f"{pending}"
            )


@publisher.command("remove")
@click.argument("project")
@click.argument("publisher_id", type=int)
@click.pass_obj
def publisher_remove(settings: Settings, project: str, publisher_id: int) -> None:
    """Remove PROJECT's trusted publisher PUBLISHER_ID (its tokens stop working there)."""
    with sessions_for(settings) as sessions, transaction(sessions) as session:
        removed = publishers.remove(
            session, normalize_name(project), publisher_id, actor_id=None, via="command line"
        )
        if removed is None:
            raise click.ClickException(f"{project} has no trusted publisher {publisher_id}")
        click.echo(f"removed trusted publisher {removed.id} from {removed.project_name}")
