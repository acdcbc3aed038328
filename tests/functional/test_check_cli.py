"""``wheelyard check``: one line per finding, exit 1 on a problem, nothing created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.helpers.live_server import free_port
from tests.helpers.mail import smtp_sink
from wheelyard.cli import main
from wheelyard.data.db_session import create_engine
from wheelyard.services.ops import schema

KEY = "k" * 48


def check(env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["check"], env=env)


def lines(result: Result, kind: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(kind + ": ")]


@pytest.fixture
def env(empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # The command reads the whole environment: the suite's own WHEELYARD_ variables (CI's
    # WHEELYARD_REQUIRE_BROWSER, WHEELYARD_PEER_VENVS, the test database's URL) are not
    # the operator's settings it checks.
    for name in list(os.environ):
        if name.startswith("WHEELYARD_"):
            monkeypatch.delenv(name)
    return {
        "WHEELYARD_DATABASE_URL": empty_database,
        "WHEELYARD_VAR_DIR": str(tmp_path / "var"),
        "WHEELYARD_SECRET_KEY": KEY,
    }


def migrate(url: str, revision: str = "head") -> None:
    engine = create_engine(url)
    try:
        schema.upgrade(engine, revision)
    finally:
        engine.dispose()


def test_a_fresh_setup_is_ok_and_nothing_is_created(env: dict[str, str], tmp_path: Path) -> None:
    del env["WHEELYARD_SECRET_KEY"]
    before = sorted(tmp_path.rglob("*"))
    result = check(env)
    assert result.exit_code == 0, result.output
    assert lines(result, "problem") == []
    assert "ok: settings: every WHEELYARD_ variable parses" in result.stdout
    assert f"ok: secret key: none yet: the first start writes {tmp_path}/var/secret_key" in (
        result.stdout
    )
    assert "ok: storage: " in result.stdout
    assert sorted(tmp_path.rglob("*")) == before  # no var dir, secret, database or schema


def test_each_bad_setting_is_one_line(env: dict[str, str]) -> None:
    env |= {
        "WHEELYARD_PRIVAT": "1",
        "WHEELYARD_SMTP_PORT": "abc",
        "WHEELYARD_UPSTREAM_URL": "ftp://mirror.example",
        "WHEELYARD_PAGE_CACHE_BYTES": "lots",
    }
    result = check(env)
    assert result.exit_code == 1
    problems = lines(result, "problem")
    assert problems == [
        "problem: WHEELYARD_PRIVAT: not a wheelyard setting (misspelt?)",
        "problem: WHEELYARD_PAGE_CACHE_BYTES: expected a positive size in bytes (or KiB, MiB,"
        " GiB) for WHEELYARD_PAGE_CACHE_BYTES, got 'lots'",
        "problem: WHEELYARD_SMTP_PORT: expected a port number, got 'abc'",
        "problem: WHEELYARD_UPSTREAM_URL: expected http(s) URLs for WHEELYARD_UPSTREAM_URL,"
        " got 'ftp://mirror.example'",
    ]
    # The rest is still checked, with those settings at their defaults.
    assert any(line.startswith("ok: database: ") for line in lines(result, "ok"))
    assert "4 problems" in result.stderr


def test_migrations_at_head_and_pending(env: dict[str, str]) -> None:
    migrate(env["WHEELYARD_DATABASE_URL"], "0018")
    result = check(env)
    assert result.exit_code == 0, result.output
    head = schema.head_revision()
    assert (
        f"ok: migrations: at 0018, {head} pending: the next start (or wheelyard db upgrade)"
        " applies it" in result.stdout
    )
    migrate(env["WHEELYARD_DATABASE_URL"])
    assert f"ok: migrations: at head ({head})" in check(env).stdout


def test_an_unreachable_database(env: dict[str, str]) -> None:
    port = free_port()  # nothing listens there
    env["WHEELYARD_DATABASE_URL"] = f"postgresql+psycopg://wheelyard:secret@127.0.0.1:{port}/x"
    result = check(env)
    assert result.exit_code == 1
    (problem,) = lines(result, "problem")
    assert problem.startswith(
        f"problem: database: postgresql+psycopg://wheelyard:***@127.0.0.1:{port}/x unreachable: "
    )
    assert ":secret@" not in result.stdout


def test_unwritable_storage_and_var_dir(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env["WHEELYARD_STORAGE_PATH"] = str(blocker / "files")
    env["WHEELYARD_VAR_DIR"] = str(blocker / "var")
    result = check(env)
    assert result.exit_code == 1
    problems = lines(result, "problem")
    assert f"problem: var dir: {blocker} is not a directory" in problems
    assert f"problem: storage: {blocker}/files cannot be created: {blocker} is not a directory" in (
        problems
    )


def test_existing_storage_takes_a_probe(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    env["WHEELYARD_STORAGE_PATH"] = str(tmp_path / "files")
    result = check(env)
    assert f"ok: storage: {tmp_path}/files writable" in result.stdout
    assert [path for path in (tmp_path / "files").rglob("*") if path.is_file()] == []


def test_secret_keys(env: dict[str, str], tmp_path: Path) -> None:
    env["WHEELYARD_SECRET_KEY"] = "short"
    (problem,) = lines(check(env), "problem")
    assert problem.startswith("problem: secret key: WHEELYARD_SECRET_KEY has 5 characters")

    del env["WHEELYARD_SECRET_KEY"]
    key = tmp_path / "var" / "secret_key"
    key.parent.mkdir()
    key.write_text(KEY)
    key.chmod(0o644)
    (problem,) = lines(check(env), "problem")
    assert problem == f"problem: secret key: {key} is readable by other users: chmod 600 it"
    key.chmod(0o600)
    assert check(env).exit_code == 0
    assert f"ok: secret key: from {key}" in check(env).stdout


def test_smtp_and_public_url(env: dict[str, str]) -> None:
    env |= {
        "WHEELYARD_SMTP_HOST": "127.0.0.1",
        "WHEELYARD_SMTP_PORT": str(free_port()),
        "WHEELYARD_PUBLIC_URL": "https://pypi.example.com",
    }
    result = check(env)
    problems = lines(result, "problem")
    assert problems[1].startswith(
        f"problem: smtp: 127.0.0.1:{env['WHEELYARD_SMTP_PORT']} unreachable"
    )
    assert problems[0] == (
        "problem: public URL: https://pypi.example.com is https but WHEELYARD_HTTPS_ONLY is off:"
        " session cookies would not be marked Secure"
    )
    with smtp_sink() as (_inbox, port):
        env |= {"WHEELYARD_SMTP_PORT": str(port), "WHEELYARD_HTTPS_ONLY": "1"}
        result = check(env)
    assert result.exit_code == 0, result.output
    assert f"ok: smtp: 127.0.0.1:{port} reachable" in result.stdout


def test_upstream_credentials_are_not_printed(env: dict[str, str]) -> None:
    env["WHEELYARD_UPSTREAM_URL"] = "https://user:hunter2@mirror.example/simple"
    result = check(env)
    assert "ok: upstream: https://mirror.example/simple/ well-formed" in result.stdout
    assert "hunter2" not in result.stdout
    assert os.environ.get("WHEELYARD_UPSTREAM_URL") is None
