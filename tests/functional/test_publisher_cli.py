"""``wheelyard publisher`` as an operator runs it: add (GitHub, GitLab, any issuer), list,
remove, and the refusals, which change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.cli_database import ada_and_bob
from wheelyard.cli import main
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.services.oidc import publishers

ISSUER = "https://ci.example.test"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A migrated database with Ada, who owns "adas-project"."""
    with ada_and_bob(tmp_path) as url:
        yield url


def run(database: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "WHEELYARD_DATABASE_URL": database,
        "WHEELYARD_VAR_DIR": str(tmp_path),
        "WHEELYARD_OIDC_ISSUERS": f"{ISSUER},https://gitlab.acme.test",
    }
    result = CliRunner().invoke(main, ["publisher", *args], env=env)
    return result.exit_code, result.output


def rows(database: str) -> list[tuple[str, PublisherKind, str, bool, dict[str, str]]]:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            found = db.scalars(sa.select(TrustedPublisher).order_by(TrustedPublisher.id))
            return [(p.project_id, p.kind, p.issuer, p.pending, p.claims) for p in found]
    finally:
        engine.dispose()


def audit_details(database: str) -> list[tuple[str, str | None, str | None]]:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            query = sa.select(AuditEvent.action, AuditEvent.package_id, AuditEvent.detail)
            return [tuple(row) for row in db.execute(query.order_by(AuditEvent.id))]  # type: ignore[misc]
    finally:
        engine.dispose()


def test_add_list_and_remove(database: str, tmp_path: Path) -> None:
    code, output = run(
        database, tmp_path, "add", "adas-project", "--github", "ada/project",
        "--workflow", "release.yml", "--environment", "pypi",
    )  # fmt: skip
    assert code == 0, output
    assert "ada/project by release.yml (environment pypi)" in output
    assert "pending" not in output
    code, output = run(
        database, tmp_path, "add", "New_Thing", "--gitlab", "acme/tools/new-thing",
        "--workflow", ".gitlab-ci.yml", "--issuer", "https://gitlab.acme.test",
        "--owner", "bob@example.com",
    )  # fmt: skip
    assert code == 0, output
    assert "pending" in output
    code, output = run(
        database, tmp_path, "add", "adas-project", "--issuer", ISSUER,
        "--claim", "repository=ada/project", "--claim", "ref=refs/tags/v1",
    )  # fmt: skip
    assert code == 0, output

    claims = {"repository": "ada/project", "ref": "refs/tags/v1"}
    assert rows(database) == [
        ("adas-project", PublisherKind.GITHUB, publishers.GITHUB_ISSUER, False, {}),
        ("new-thing", PublisherKind.GITLAB, "https://gitlab.acme.test", True, {}),
        ("adas-project", PublisherKind.OIDC, ISSUER, False, claims),
    ]
    code, output = run(database, tmp_path, "list", "adas-project")
    assert code == 0
    assert len(output.splitlines()) == 2
    assert "new-thing" not in output.lower()
    code, output = run(database, tmp_path, "list")
    assert len(output.splitlines()) == 3
    assert "(pending)" in output

    publisher_id = output.splitlines()[0].split("\t")[0]
    code, output = run(database, tmp_path, "remove", "adas-project", publisher_id)
    assert code == 0, output
    assert len(rows(database)) == 2
    actions = [(action, package) for action, package, _ in audit_details(database)]
    assert actions[-4:] == [
        ("trusted publisher added", "adas-project"),
        ("trusted publisher added", None),  # its project does not exist yet
        ("trusted publisher added", "adas-project"),
        ("trusted publisher removed", "adas-project"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--github", "ada", "--workflow", "r.yml"], "OWNER/REPO"),
        (["--github", "ada/project"], "workflow file"),
        (["--github", "ada/project", "--workflow", ".github/workflows/r.yml"], "file name"),
        (
            ["--github", "a/b", "--workflow", "r.yml", "--issuer", "https://evil.test"],
            "not trusted",
        ),
        (["--github", "a/b", "--workflow", "r.yml", "--owner-id", "ada"], "owner id"),
        (["--issuer", ISSUER], "at least one claim"),
        (["--issuer", ISSUER, "--claim", "aud=x"], "checked for every token"),
        (["--issuer", ISSUER, "--claim", "novalue"], "NAME=VALUE"),
        (["--issuer", "http://ci.example.test", "--claim", "sub=x"], "not trusted"),
        ([], "--github"),
        (["--github", "a/b", "--gitlab", "c/d", "--workflow", "x"], "not both"),
    ],
)
def test_refusals_say_why_and_change_nothing(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = run(database, tmp_path, "add", "adas-project", *args)
    assert code != 0
    assert message in output
    assert rows(database) == []


def test_a_pending_publishers_owner_must_have_an_account(database: str, tmp_path: Path) -> None:
    code, output = run(
        database, tmp_path, "add", "new-thing", "--github", "a/b", "--workflow", "r.yml",
        "--owner", "nobody@example.com",
    )  # fmt: skip
    assert code != 0
    assert "no account" in output
    assert rows(database) == []


def test_removing_what_is_not_there_is_refused(database: str, tmp_path: Path) -> None:
    code, output = run(database, tmp_path, "remove", "adas-project", "99")
    assert code != 0
    assert "no trusted publisher 99" in output
