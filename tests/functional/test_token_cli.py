"""``wheelyard token create`` as an operator runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers.cli_database import ada_and_bob
from wheelyard.cli import main
from wheelyard.data.api_token import TokenScope
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.services.accounts import tokens


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with Ada, who owns "adas-project", and Bob, who owns nothing."""
    directory = tmp_path_factory.mktemp("token-cli")
    with ada_and_bob(directory) as url:
        yield url


def run(database: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["token", "create", *args], env=env)
    return result.exit_code, result.output


def find(database: str, secret: str) -> tuple[str, str | None] | None:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            token = tokens.find_valid_token(db, secret)
            return (token.user.email, token.package_id) if token else None
    finally:
        engine.dispose()


def test_token_create_prints_a_working_token_last(database: str, tmp_path: Path) -> None:
    code, output = run(database, tmp_path, "--email", "ADA@example.com")
    assert code == 0, output
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("wheelyard-")
    assert find(database, secret) == ("ada@example.com", None)


def test_token_create_scoped_to_a_project(database: str, tmp_path: Path) -> None:
    code, output = run(
        database, tmp_path, "--email", "ada@example.com", "--project", "Adas.Project"
    )
    assert code == 0, output
    assert find(database, output.strip().splitlines()[-1]) == ("ada@example.com", "adas-project")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com"], "no account"),
        (["--email", "ada@example.com", "--project", "missing"], "no project"),
        (["--email", "bob@example.com", "--project", "adas-project"], "does not maintain"),
        (["--email", "ada@example.com", "--description", ""], "description"),
        (["--email", "ada@example.com", "--expires-in-days", "0"], "0"),
    ],
)
def test_token_create_refuses_what_it_cannot_do(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = run(database, tmp_path, *args)
    assert code != 0
    assert message in output
    assert "wheelyard-" not in output


def test_token_create_with_the_read_scope(database: str, tmp_path: Path) -> None:
    code, output = run(database, tmp_path, "--email", "ada@example.com", "--scope", "read")
    assert code == 0, output
    assert "created read token" in output
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            token = tokens.find_valid_token(db, output.strip().splitlines()[-1])
            assert token is not None
            assert token.scope is TokenScope.READ
    finally:
        engine.dispose()


def test_an_unknown_scope_is_refused(database: str, tmp_path: Path) -> None:
    code, output = run(database, tmp_path, "--email", "ada@example.com", "--scope", "admin")
    assert code == 2
    assert "'admin' is not one of 'read', 'upload'" in output
