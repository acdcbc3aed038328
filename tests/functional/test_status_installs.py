"""pip and uv against a live server: PEP 792 statuses and read-only mode, set by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.install_clients import CLIENT_ENV, UV
from tests.helpers.live_server import LiveServer, wheelyard_cli
from tests.helpers.passwords import PASSWORD, cheap_passwords
from tests.helpers.uploads import post_upload
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.services import journal
from wheelyard.storage.local import LocalStorage

pytestmark = pytest.mark.clients

PROJECTS = ("arch-lib", "quar-lib", "plain-lib")
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    engine = create_engine(live_server.database_url)
    storage = LocalStorage(live_server.var_dir / "files")
    try:
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            owner = make.user(email="status-owner@example.com")
            for name in PROJECTS:
                package = make.package(name, versions=(), owner=owner)
                release = make.release(package, "1.0", with_file=False)
                make.stored_file(release, wheel(Project(name, "1.0")), storage)
                journal.record(db, package, journal.Action.NEW_RELEASE, version="1.0")
    finally:
        engine.dispose()
    wheelyard_cli(live_server, "project", "status", "arch-lib", "archived", "--reason", "done")
    wheelyard_cli(live_server, "project", "status", "quar-lib", "quarantined", "--reason", "bad")
    return live_server


def _run(command: Sequence[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def pip(venv: Path, server: LiveServer, name: str) -> subprocess.CompletedProcess[str]:
    options = ["--no-cache-dir", "--index-url", server.url + "/simple/"]
    python = venv / "bin" / "python"
    return _run([sys.executable, "-m", "pip", "--python", python, "install", *options, name])


def uv(venv: Path, server: LiveServer, name: str) -> subprocess.CompletedProcess[str]:
    index = server.url + "/simple/"
    return _run([UV, "pip", "install", "--python", venv, "--index-url", index, name])


INSTALLERS = {"pip": pip, "uv": uv}


def _simple(server: LiveServer, path: str) -> Any:
    request = urllib.request.Request(server.url + path, headers={"Accept": SIMPLE_JSON})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait for a change another process made (the server follows the journal and reads
    the flags again within seconds)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the server did not follow in time"
        time.sleep(0.3)


def test_the_markers_reach_clients(server: LiveServer) -> None:
    _until(lambda: _simple(server, "/simple/quar-lib/")["files"] == [])
    archived = _simple(server, "/simple/arch-lib/")
    assert archived["project-status"] == {"status": "archived", "reason": "done"}
    assert archived["meta"]["api-version"] == "1.4"
    quarantined = _simple(server, "/simple/quar-lib/")
    assert quarantined["project-status"] == {"status": "quarantined", "reason": "bad"}
    names = [entry["name"] for entry in _simple(server, "/simple/")["projects"]]
    assert "quar-lib" not in names and "arch-lib" in names


@pytest.mark.parametrize("installer", INSTALLERS)
def test_archived_installs_and_quarantined_does_not(
    server: LiveServer, venv: Path, installer: str
) -> None:
    _until(lambda: _simple(server, "/simple/quar-lib/")["files"] == [])
    result = INSTALLERS[installer](venv, server, "arch-lib")
    assert result.returncode == 0, result.stdout + result.stderr
    result = INSTALLERS[installer](venv, server, "quar-lib")
    assert result.returncode != 0
    listed = _run([UV, "pip", "list", "--python", venv, "--format", "freeze"]).stdout
    assert "arch-lib==1.0" in listed and "quar-lib" not in listed


def test_an_archived_project_refuses_an_upload_over_http(server: LiveServer) -> None:
    status, body = post_upload(
        server.url, wheel(Project("arch-lib", "2.0")), "status-owner@example.com", PASSWORD
    )
    assert status == 403
    assert "archived" in body and "done" in body


@pytest.mark.parametrize("installer", INSTALLERS)
def test_read_only_mode_keeps_installs_working(
    server: LiveServer, venv: Path, installer: str
) -> None:
    dist = wheel(Project("plain-lib", f"2.0.{installer}"))
    wheelyard_cli(server, "site", "read-only", "on", "--reason", "Backup running.")
    try:
        refused: list[tuple[int, str]] = []

        def upload_refused() -> bool:
            refused[:] = [post_upload(server.url, dist, "status-owner@example.com", PASSWORD)]
            return refused[0][0] == 503

        _until(upload_refused)
        assert "Backup running." in refused[0][1]
        result = INSTALLERS[installer](venv, server, "plain-lib")
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        wheelyard_cli(server, "site", "read-only", "off")
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            versions = connection.scalars(
                sa.text(
                    "SELECT version FROM releases WHERE package_id = 'plain-lib' ORDER BY version"
                )
            )
            assert list(versions) == ["1.0"]  # the refused upload left nothing
    finally:
        engine.dispose()
