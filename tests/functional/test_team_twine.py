"""twine with roles held through teams: a team's maintainer uploads, a team's reader cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.dists import Project, wheel
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import LiveServer, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine
from wheelyard.data.release_file import ReleaseFile

pytestmark = pytest.mark.clients

LIB = Project("team-lib", "1.0")


def twine(server: LiveServer, path: Path, username: str, password: str) -> tuple[int, str]:
    result = subprocess.run(
        [
            sys.executable, "-m", "twine", "upload", "--repository-url", server.url + "/legacy/",
            "-u", username, "-p", password, "--disable-progress-bar", "--verbose", str(path),
        ],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def filenames(server: LiveServer) -> set[str]:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(sa.select(ReleaseFile.filename)))
    finally:
        engine.dispose()


def test_a_team_maintainer_uploads_a_team_reader_is_refused(
    live_server: LiveServer, tmp_path: Path
) -> None:
    for name in ("Olive", "Grace", "Rita"):
        email = f"{name.lower()}@example.com"
        wheelyard_cli(
            live_server, "user", "create", "--name", name, "--email", email, "--password", PASSWORD
        )
    first = wheel(LIB).write_to(tmp_path)
    code, output = twine(live_server, first, "olive@example.com", PASSWORD)
    assert code == 0, output
    wheelyard_cli(live_server, "team", "create", "builders")
    wheelyard_cli(live_server, "team", "add", "builders", "grace@example.com")
    wheelyard_cli(live_server, "team", "grant", "builders", "team-lib", "maintainer")
    wheelyard_cli(live_server, "team", "create", "auditors")
    wheelyard_cli(live_server, "team", "add", "auditors", "rita@example.com")
    wheelyard_cli(live_server, "team", "grant", "auditors", "team-lib", "reader")

    # A token limited to the project: the command line accepts a role held through a team.
    token = wheelyard_cli(
        live_server, "token", "create", "--email", "grace@example.com", "--project", "team-lib"
    ).split()[-1]
    second = wheel(replace(LIB, version="1.1")).write_to(tmp_path)
    code, output = twine(live_server, second, "__token__", token)
    assert code == 0, output

    third = wheel(replace(LIB, version="1.2")).write_to(tmp_path)
    code, output = twine(live_server, third, "rita@example.com", PASSWORD)
    assert code == 1
    assert "403 Forbidden" in output
    assert "a Reader may install and read only" in output, output
    assert filenames(live_server) >= {first.name, second.name}
    assert third.name not in filenames(live_server)

    engine = create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(AuditEvent.action).where(AuditEvent.action.like("team%"))
            actions = list(connection.scalars(query.order_by(AuditEvent.id)))
    finally:
        engine.dispose()
    assert actions == ["team created", "team member added", "team role granted"] * 2
