"""``wheelyard db copy``: an index moved from SQLite to PostgreSQL and back, every row equal,
the totals not counted twice, and the copy serving pip and taking new uploads."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.database_rows import every_row, index_totals
from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import (
    LiveServer,
    launched,
    run_server,
    scratch_database,
    wait_until_up,
    wheelyard_cli,
)
from tests.helpers.passwords import PASSWORD

pytestmark = [
    pytest.mark.clients,
    pytest.mark.skipif(
        postgres_url() is None,
        reason="moving between databases needs PostgreSQL (WHEELYARD_TEST_POSTGRES_URL)",
    ),
]

LIB = Project("moving-lib", "1.0", modules={"moving_lib/__init__.py": "__version__ = '1.0'\n"})


def run(command: list[str | Path], env: Mapping[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def twine(server: LiveServer, *files: Path) -> None:
    code, output = run(
        [
            sys.executable, "-m", "twine", "upload", "--repository-url", server.url + "/legacy/",
            "-u", "ada@example.com", "-p", PASSWORD, "--disable-progress-bar", *files,
        ]
    )  # fmt: skip
    assert code == 0, output


def copy(env: Mapping[str, str], target: str) -> tuple[int, str]:
    return run([sys.executable, "-m", "wheelyard", "db", "copy", "--to", target], env)


def test_sqlite_to_postgresql_and_back(tmp_path: Path, venv: Path) -> None:
    var = tmp_path / "var"
    dists = tmp_path / "dists"
    with run_server(var) as sqlite_server:  # SQLite
        wheelyard_cli(
            sqlite_server, "user", "create", "--name", "Ada", "--email", "ada@example.com",
            "--password", PASSWORD,
        )  # fmt: skip
        twine(sqlite_server, wheel(LIB).write_to(dists))
        twine(sqlite_server, wheel(replace(LIB, version="1.1")).write_to(dists))
        wheelyard_cli(sqlite_server, "token", "create", "--email", "ada@example.com")
    source_env = sqlite_server.env
    source_rows = every_row(sqlite_server.database_url)
    totals = index_totals(sqlite_server.database_url)
    assert totals[:3] == (1, 2, 2)

    with scratch_database(postgres_url(), tmp_path) as postgres:
        code, output = copy(source_env, postgres)
        assert code == 0, output
        assert every_row(postgres) == source_rows
        assert index_totals(postgres) == totals  # the triggers' counts did not add up twice

        # A second copy into the now full database is refused, and changes nothing.
        code, output = copy(source_env, postgres)
        assert code == 1
        assert "the target database is not empty" in output
        assert every_row(postgres) == source_rows

        # The copy serves: same storage, new database. pip installs from it, and an upload
        # gets new ids past the copied ones (the sequences were moved on).
        with launched(var, postgres) as copied_server:
            wait_until_up(copied_server)
            python = venv / "bin" / "python"
            code, output = run(
                [
                    sys.executable, "-m", "pip", "--python", python, "install", "--no-cache-dir",
                    "--index-url", copied_server.url + "/simple/", "moving-lib",
                ]
            )  # fmt: skip
            assert code == 0, output
            code, output = run(
                [python, "-c", "import importlib.metadata as m; print(m.version('moving-lib'))"]
            )
            assert (code, output.strip()) == (0, "1.1")
            twine(copied_server, wheel(replace(LIB, version="2.0")).write_to(dists))
        after_upload = every_row(postgres)
        assert len(after_upload["release_files"]) == 3
        assert index_totals(postgres)[:3] == (1, 3, 3)

        # And back to SQLite: every row, the new upload's included.
        back = f"sqlite:///{tmp_path / 'back' / 'wheelyard.db'}"
        code, output = copy({**source_env, "WHEELYARD_DATABASE_URL": postgres}, back)
        assert code == 0, output
        assert every_row(back) == after_upload
        assert index_totals(back) == index_totals(postgres)
