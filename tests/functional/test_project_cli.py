"""``wheelyard project visibility`` as an operator runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.environment import postgres_url
from tests.helpers.live_server import scratch_database
from wheelyard.cli import main
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.package import Package, Visibility
from wheelyard.services.audit import Action
from wheelyard.services.ops import schema


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine)
            with transaction(session_factory(engine)) as db:
                db.add(Package(id="some-project", name="Some.Project"))
        finally:
            engine.dispose()
        yield url


def run(database: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["project", "visibility", *args], env=env)
    return result.exit_code, result.output


def state(database: str) -> tuple[Visibility, list[str | None], int]:
    """The project's visibility, its audit details, and its journal's last serial."""
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            package = db.get(Package, "some-project")
            assert package is not None
            details = db.scalars(
                sa.select(AuditEvent.detail)
                .where(AuditEvent.action == Action.VISIBILITY_CHANGED)
                .order_by(AuditEvent.id)
            )
            return Visibility(package.visibility), list(details), package.last_serial
    finally:
        engine.dispose()


def test_the_command_makes_a_project_private_and_public(database: str, tmp_path: Path) -> None:
    assert state(database)[0] == Visibility.PUBLIC
    code, output = run(database, tmp_path, "Some_Project", "private")
    assert code == 0, output
    assert "Some.Project is now private" in output
    visibility, details, serial = state(database)
    assert (visibility, details) == (Visibility.PRIVATE, ["private"])
    assert serial > 0  # a journal entry: every worker drops the project's cached pages
    code, output = run(database, tmp_path, "some-project", "private")
    assert (code, "was already private" in output) == (0, True)
    assert state(database)[1] == ["private"]  # nothing changed, nothing audited
    assert run(database, tmp_path, "some-project", "public")[0] == 0
    assert state(database)[:2] == (Visibility.PUBLIC, ["private", "public"])


@pytest.mark.parametrize(
    ("args", "message"),
    [(["missing", "private"], "no project"), (["some-project", "secret"], "Invalid value")],
)
def test_the_command_refuses_what_it_cannot_do(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = run(database, tmp_path, *args)
    assert code != 0 and message in output
    assert state(database)[:2] == (Visibility.PUBLIC, [])
