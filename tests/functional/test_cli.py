"""The wheelyard command as an operator runs it, on a database of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from wheelyard.cli import main
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.data.user import User
from wheelyard.services.ops import schema


@pytest.fixture
def cli_env(empty_database: str, tmp_path: Path) -> dict[str, str]:
    return {"WHEELYARD_DATABASE_URL": empty_database, "WHEELYARD_VAR_DIR": str(tmp_path)}


def users_in(url: str) -> list[User]:
    engine = create_engine(url)
    try:
        with session_factory(engine)() as db:
            return list(db.scalars(sa.select(User)))
    finally:
        engine.dispose()


def test_db_upgrade_builds_the_schema(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env=cli_env)
    assert result.exit_code == 0, result.output
    engine = create_engine(cli_env["WHEELYARD_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            assert schema.current_revision(connection) is not None
            assert schema.pending_differences(connection) == []
    finally:
        engine.dispose()


def test_user_create_with_password(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    result = runner.invoke(
        main,
        ["user", "create", "--name", "Ada", "--email", "Ada@Example.com", "--password", "s3cret!"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    (user,) = users_in(cli_env["WHEELYARD_DATABASE_URL"])
    assert user.email == "ada@example.com"
    assert user.hashed_password is not None
    assert user.hashed_password.startswith("$argon2id$")
    assert "s3cret!" not in user.hashed_password
    assert not user.is_admin
    # The operator vouches for the address: the account may upload at once.
    assert user.email_verified


@pytest.mark.parametrize(
    "command",
    [
        ["user", "create", "--name", "Ada", "--email", "ada@example.com", "--password", "pw"],
        ["team", "create", "platform"],
    ],
    ids=["user create", "team create"],
)
def test_a_command_on_a_fresh_database_builds_the_schema_first(
    cli_env: dict[str, str], command: list[str]
) -> None:
    # No "db upgrade" and no server started before: the command must not fail on a missing
    # table, as it did before the first start.
    result = CliRunner().invoke(main, command, env=cli_env)
    assert result.exit_code == 0, result.output


def test_user_create_prompts_for_the_password(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    result = runner.invoke(
        main,
        ["user", "create", "--name", "Root", "--email", "root@example.com", "--admin"],
        env=cli_env,
        input="hunter22\nhunter22\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    (user,) = users_in(cli_env["WHEELYARD_DATABASE_URL"])
    assert user.is_admin


def test_user_create_refuses_a_duplicate_email(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    args = ["user", "create", "--name", "A", "--email", "a@example.com", "--password", "pw"]
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    assert runner.invoke(main, args, env=cli_env).exit_code == 0
    result = runner.invoke(main, args, env=cli_env)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert len(users_in(cli_env["WHEELYARD_DATABASE_URL"])) == 1


@pytest.mark.parametrize("given", ["--certfile", "--keyfile"])
def test_serve_needs_both_the_certificate_and_its_key(tmp_path: Path, given: str) -> None:
    pem = tmp_path / "file.pem"
    pem.write_text("not used")
    env = {
        "WHEELYARD_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "WHEELYARD_VAR_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(main, ["serve", given, str(pem)], env=env)
    assert result.exit_code == 2
    assert "--certfile and --keyfile go together" in result.output
    assert not (tmp_path / "db.sqlite").exists()  # refused before anything was made
