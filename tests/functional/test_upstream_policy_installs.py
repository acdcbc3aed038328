"""pip installs through wheelyard in front of an upstream on loopback with a cooldown and a
deny list: it gets only the files that are old enough, of the projects that are allowed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, new_venv
from tests.helpers.live_server import LiveServer, run_server
from tests.helpers.upstreams import static_index, write_json_tree

pytestmark = pytest.mark.clients

OLD = wheel(Project("cool-lib", "1.0"))
NEW = wheel(Project("cool-lib", "2.0"))
EVIL = wheel(Project("evil-lib", "1.0"))


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("policy-installs")
    root = base / "static"
    now = dt.datetime.now(dt.UTC)
    write_json_tree(root, "cool-lib", [(OLD, iso(now - dt.timedelta(days=10))), (NEW, iso(now))])
    write_json_tree(root, "evil-lib", [(EVIL, iso(now - dt.timedelta(days=100)))])
    with static_index(root) as url:
        env = {
            "WHEELYARD_UPSTREAM_URL": url,
            "WHEELYARD_UPSTREAM_MIN_AGE": "7d",
            "WHEELYARD_UPSTREAM_DENY": "evil-*",
        }
        with run_server(base / "proxy", postgres_url(), env=env) as server:
            yield server


def pip_install(venv: Path, server: LiveServer, requirement: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    options = ["--no-cache-dir", "--index-url", server.url + "/simple/", requirement]
    result = subprocess.run(
        [*command, *options],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def installed(venv: Path) -> str:
    result = subprocess.run(
        [venv / "bin" / "python", "-c", "import cool_lib; print(cool_lib.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_pip_installs_the_newest_release_past_the_cooldown(
    proxy: LiveServer, tmp_path: Path
) -> None:
    venv = new_venv(tmp_path / "venv")
    code, output = pip_install(venv, proxy, "cool-lib")
    assert code == 0, output
    assert installed(venv) == "1.0"
    code, output = pip_install(new_venv(tmp_path / "pinned"), proxy, "cool-lib==2.0")
    assert code != 0
    assert "cool-lib==2.0" in output


def test_pip_cannot_install_a_denied_project(proxy: LiveServer, tmp_path: Path) -> None:
    code, output = pip_install(new_venv(tmp_path / "venv"), proxy, "evil-lib")
    assert code != 0
    assert "evil-lib" in output
