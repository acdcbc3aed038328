"""bandersnatch (from PyPI, in its own virtualenv) mirrors a subset of a live wheelyard, in its
default XML-RPC mode and with ``api-method = simple``; a second run after a new upload
fetches only what changed; pip then installs from the mirror's folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, new_venv
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.peers import BANDERSNATCH_VENV, peer_venv
from tests.helpers.uploads import post_upload
from tests.helpers.upstreams import uploader_token

pytestmark = pytest.mark.clients

LIB = Project("tiny-lib", "1.0", summary="The library")
LIB_NEXT = Project("tiny-lib", "1.1", summary="The library, again")
APP = Project(
    "tiny-app", "0.1", requires_dist=["tiny-lib>=1.0"], modules={"tiny_app/__init__.py": ""}
)
# On the index, outside the allowlist: never mirrored.
OTHER = Project("other-lib", "1.0")
# On the allowlist, but private: an anonymous mirror never learns of it.
SECRET = Project("zephyr-secret", "1.0")
ALLOWED = ("tiny-lib", "tiny-app", "zephyr-secret")


@dataclass
class Site:
    server: LiveServer
    token: str

    def upload(self, *dists: Dist) -> None:
        for dist in dists:
            status, text = post_upload(self.server.url, dist, "__token__", self.token)
            assert status == 200, text


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with run_server(tmp_path / "server", postgres_url()) as server:
        site = Site(server, uploader_token(server, "up@example.com", admin=True))
        site.upload(wheel(LIB), sdist(LIB), sdist(APP), wheel(OTHER), wheel(SECRET))
        wheelyard_cli(server, "project", "visibility", SECRET.name, "private")
        yield site


def config(mirror: Path, server: LiveServer, api_method: str) -> Path:
    path = mirror.with_suffix(".conf")
    lines = [
        "[mirror]",
        f"directory = {mirror}",
        f"master = {server.url}",
        "allow-non-https = true",
        "json = true",
        "workers = 2",
        "timeout = 30",
        "stop-on-error = true",
        "hash-index = false",
        "simple-format = ALL",
        f"api-method = {api_method}",
        "",
        "[plugins]",
        "enabled =",
        "    allowlist_project",
        "",
        "[allowlist]",
        "packages =",
        *(f"    {name}" for name in ALLOWED),
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def bandersnatch(conf: Path) -> str:
    venv = peer_venv(BANDERSNATCH_VENV)
    done = subprocess.run(
        [str(venv / "bin" / "bandersnatch"), "--config", str(conf), "mirror"],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    print(f"$ bandersnatch --config {conf.name} mirror\n{output}")
    assert done.returncode == 0, output
    return output


def mirrored_files(mirror: Path) -> set[str]:
    return {path.name for path in (mirror / "web" / "packages").rglob("*") if path.is_file()}


def downloaded(output: str) -> set[str]:
    return set(re.findall(r"Downloading: \S*/([^/\s]+)", output))


@pytest.mark.parametrize("api_method", ["xmlrpc", "simple"])
def test_mirror_then_only_the_change_then_pip_installs(
    site: Site, tmp_path: Path, api_method: str
) -> None:
    mirror = tmp_path / "mirror"
    conf = config(mirror, site.server, api_method)

    first = bandersnatch(conf)
    assert "2 packages to sync" in first

    wanted = {wheel(LIB).filename, sdist(LIB).filename, sdist(APP).filename}
    assert mirrored_files(mirror) == wanted
    assert downloaded(first) == wanted
    simple = mirror / "web" / "simple"
    assert (simple / "tiny-lib" / "index.html").is_file()
    assert not (simple / "other-lib").exists()
    assert not (simple / "zephyr-secret").exists()
    assert (
        json.loads((mirror / "web" / "json" / "tiny-lib").read_text())["info"]["version"] == "1.0"
    )
    serial = int((mirror / "status").read_text())
    assert serial > 0

    site.upload(wheel(LIB_NEXT))
    second = bandersnatch(conf)

    # Only the new file came; tiny-app, unchanged, was not even looked at again.
    assert downloaded(second) == {wheel(LIB_NEXT).filename}
    assert "Syncing based on changelog" in second
    assert "1 packages to sync" in second
    assert "Fetching metadata for package: tiny-app" not in second
    assert mirrored_files(mirror) == wanted | {wheel(LIB_NEXT).filename}
    assert int((mirror / "status").read_text()) > serial

    venv = new_venv(tmp_path / "venv")
    done = subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
            "--no-cache-dir", "--index-url", simple.as_uri(), "tiny-app",
        ],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tiny-lib-1.1" in done.stdout
    assert (venv / "lib").exists()
