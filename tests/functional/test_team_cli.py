"""``wheelyard team`` as an operator runs it."""

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
from wheelyard.data.maintainer import Role
from wheelyard.data.user import User
from wheelyard.services.access import roles


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A migrated database with Ada, who owns "adas-project", and Bob, who owns nothing."""
    with ada_and_bob(tmp_path) as url:
        yield url


def run(database: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["team", *args], env=env)
    return result.exit_code, result.output


def bobs_role(database: str) -> Role | None:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            bob = db.scalars(sa.select(User).where(User.email == "bob@example.com")).one()
            return roles.effective_role(db, bob.id, "adas-project")
    finally:
        engine.dispose()


def audit_actions(database: str) -> list[str]:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            return list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        engine.dispose()


def test_create_add_grant_revoke_remove(database: str, tmp_path: Path) -> None:
    assert run(database, tmp_path, "create", "Crew") == (0, "created team Crew\n")
    assert run(database, tmp_path, "add", "crew", "BOB@example.com") == (
        0,
        "added bob@example.com to team Crew\n",
    )
    assert bobs_role(database) is None
    code, output = run(database, tmp_path, "grant", "crew", "Adas.Project", "maintainer")
    assert (code, output) == (0, "team Crew is Maintainer of Adas_Project\n")
    assert bobs_role(database) == Role.MAINTAINER
    assert run(database, tmp_path, "grant", "crew", "adas-project", "reader")[0] == 0
    assert bobs_role(database) == Role.READER
    code, output = run(database, tmp_path, "list")
    assert output == "Crew: members bob@example.com; projects Adas_Project (Reader)\n"
    assert run(database, tmp_path, "revoke", "crew", "adas-project")[0] == 0
    assert bobs_role(database) is None
    assert run(database, tmp_path, "remove", "crew", "bob@example.com")[0] == 0
    assert audit_actions(database) == [
        "team created",
        "team member added",
        "team role granted",
        "team role granted",
        "team role revoked",
        "team member removed",
    ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("create", "crew"), "already a team"),
        (("create", "no spaces"), "team name"),
        (("add", "nobody", "bob@example.com"), "there is no team named 'nobody'"),
        (("add", "crew", "nobody@example.com"), "no account"),
        (("grant", "crew", "no-such-project", "reader"), "there is no project"),
        (("grant", "crew", "adas-project", "emperor"), "Invalid value"),
        (("revoke", "crew", "adas-project"), "holds no role"),
    ],
)
def test_refusals_say_why_and_change_nothing(
    database: str, tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    assert run(database, tmp_path, "create", "crew")[0] == 0
    code, output = run(database, tmp_path, *args)
    assert code != 0 and reason in output, output
    assert audit_actions(database) == ["team created"]
