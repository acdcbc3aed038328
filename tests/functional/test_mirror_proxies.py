"""devpi-server (an index of type mirror whose mirror_url is wheelyard) and proxpi (with
wheelyard as its index), each from PyPI in its own virtualenv as the benchmarks run them
(benchmarks/proxies.py), in front of a live wheelyard: pip installs through each. And the
serial that tells them (and bandersnatch) their copy is current: ``X-PyPI-Last-Serial``
grows with each change to a project, and only with changes to it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.install_clients import CLIENT_ENV, new_venv
from tests.helpers.live_server import LiveServer
from tests.helpers.peers import (
    DEVPI_VENV,
    PROXPI_VENV,
    DevpiMirror,
    Proxpi,
    free_port,
    peer_venv,
)
from tests.helpers.uploads import post_upload
from tests.helpers.upstreams import uploader_token

pytestmark = pytest.mark.clients

LIB = Project("tiny-lib", "1.0")
APP = Project(
    "tiny-app", "0.1", requires_dist=["tiny-lib>=1.0"], modules={"tiny_app/__init__.py": ""}
)


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    token = uploader_token(live_server, "up@example.com", admin=True)
    for dist in (wheel(LIB), sdist(APP)):
        status, text = post_upload(live_server.url, dist, "__token__", token)
        assert status == 200, text
    return token


def pip_install(index_url: str, venv: Path, *requirements: str) -> str:
    done = subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
            "--no-cache-dir", "--index-url", index_url, *requirements,
        ],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def installed(venv: Path) -> set[str]:
    site = next((venv / "lib").glob("python*/site-packages"))
    return {path.name.split("-")[0] for path in site.glob("*.dist-info")}


@pytest.fixture
def devpi(live_server: LiveServer, token: str, tmp_path: Path) -> Iterator[DevpiMirror]:
    server = DevpiMirror(
        tmp_path / "devpi", free_port(), peer_venv(DEVPI_VENV), f"{live_server.url}/simple/"
    )
    server.start()
    try:
        server.prepare()
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxpi(live_server: LiveServer, token: str, tmp_path: Path) -> Iterator[Proxpi]:
    server = Proxpi(
        tmp_path / "proxpi", free_port(), peer_venv(PROXPI_VENV), f"{live_server.url}/simple/"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_pip_installs_through_a_devpi_mirror_index(devpi: DevpiMirror, tmp_path: Path) -> None:
    assert str(devpi.mirror_config()["mirror_url"]).endswith("/simple/")
    output = pip_install(devpi.index_url, new_venv(tmp_path / "venv"), "tiny-app")
    assert devpi.base_url in output
    assert installed(tmp_path / "venv") >= {"tiny_app", "tiny_lib"}


def test_pip_installs_through_proxpi(proxpi: Proxpi, tmp_path: Path) -> None:
    output = pip_install(proxpi.index_url, new_venv(tmp_path / "venv"), "tiny-app")
    assert proxpi.base_url in output
    assert installed(tmp_path / "venv") >= {"tiny_app", "tiny_lib"}


def serials(server: LiveServer, project: str) -> tuple[int, int, int]:
    """The project's serial as its simple page's header and comment, and its JSON's header."""
    request = urllib.request.Request(
        f"{server.url}/simple/{project}/", headers={"Accept": "text/html"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        header = int(response.headers["X-PyPI-Last-Serial"])
        (comment,) = re.findall(r"<!--SERIAL (\d+)-->", response.read().decode())
    with urllib.request.urlopen(f"{server.url}/pypi/{project}/json", timeout=30) as response:
        from_json = int(response.headers["X-PyPI-Last-Serial"])
    return header, int(comment), from_json


def test_last_serial_grows_with_each_change_to_the_project_only(
    live_server: LiveServer, token: str
) -> None:
    seen = [serials(live_server, "tiny-lib")]
    app_before = serials(live_server, "tiny-app")
    for project in (Project("tiny-lib", "1.1"), Project("tiny-lib", "1.2")):
        status, text = post_upload(live_server.url, wheel(project), "__token__", token)
        assert status == 200, text
        seen.append(serials(live_server, "tiny-lib"))
    status, text = post_upload(
        live_server.url, sdist(Project("tiny-lib", "1.2")), "__token__", token
    )
    assert status == 200, text
    seen.append(serials(live_server, "tiny-lib"))

    # The header, the comment and the JSON agree, and each change moved them on.
    assert all(len(set(each)) == 1 for each in seen), seen
    numbers = [each[0] for each in seen]
    assert numbers == sorted(set(numbers)), numbers
    # Changes to another project leave this one's serial where it was.
    assert serials(live_server, "tiny-app") == app_before
