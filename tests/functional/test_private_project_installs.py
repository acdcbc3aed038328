"""pip and uv installing a private project from a public index, with a read token in the
index URL (sent with the first request, so no 401 is needed); refused without one and with a
token for another project. New projects are private here by WHEELYARD_DEFAULT_VISIBILITY."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, UV, new_venv
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import post_upload

pytestmark = pytest.mark.clients

SECRET = Project("secret-lib", "1.0")
OPEN = Project("open-lib", "1.0")


@dataclass(frozen=True)
class Index:
    server: LiveServer
    read_token: str
    other_project_token: str

    def simple_url(self, token: str = "") -> str:
        at = f"__token__:{token}@" if token else ""
        return f"http://{at}{urlsplit(self.server.url).netloc}/simple/"


def _token(server: LiveServer, *args: str) -> str:
    out = wheelyard_cli(server, "token", "create", "--email", "ada@example.com", *args)
    return out.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    var_dir = tmp_path_factory.mktemp("private-projects")
    env = {"WHEELYARD_DEFAULT_VISIBILITY": "private"}
    with run_server(var_dir, postgres_url(), env=env) as server:
        login = ("--email", "ada@example.com", "--password", PASSWORD)
        wheelyard_cli(server, "user", "create", "--name", "Ada", *login)
        upload = _token(server)
        for project in (SECRET, OPEN):
            status, text = post_upload(server.url, wheel(project), "__token__", upload)
            assert status == 200, text
        # Both are private at their first upload; the operator opens one to all.
        assert "is now public" in wheelyard_cli(
            server, "project", "visibility", "open-lib", "public"
        )
        read = _token(server, "--scope", "read")
        other = _token(server, "--scope", "read", "--project", "open-lib")
        yield Index(server, read, other)


def run(command: Sequence[str | Path], env: Mapping[str, str] = {}) -> tuple[int, str]:
    result = subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def pip(venv: Path, url: str, name: str) -> tuple[int, str]:
    python = venv / "bin" / "python"
    options = ["--no-cache-dir", "--index-url", url, name]
    return run([sys.executable, "-m", "pip", "--python", python, "install", *options])


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return new_venv(tmp_path / "venv")


def test_the_first_upload_made_it_private(index: Index) -> None:
    assert httpx2.get(index.server.url + "/simple/secret-lib/").status_code == 404
    assert httpx2.get(index.server.url + "/simple/open-lib/").status_code == 200
    assert "secret-lib" not in httpx2.get(index.server.url + "/simple/").text


def test_pip_installs_it_with_a_read_token_in_the_url(index: Index, venv: Path) -> None:
    code, output = pip(venv, index.simple_url(index.read_token), SECRET.name)
    assert code == 0, output


def test_uv_installs_it_with_a_read_token_in_the_url(index: Index, venv: Path) -> None:
    url = index.simple_url(index.read_token)
    code, output = run([UV, "pip", "install", "--python", venv, SECRET.name], {"UV_INDEX_URL": url})
    assert code == 0, output


@pytest.mark.parametrize("who", ["nobody", "a token for another project", "a wrong token"])
def test_pip_does_not_find_it_otherwise(index: Index, venv: Path, who: str) -> None:
    token = {
        "nobody": "",
        "a token for another project": index.other_project_token,
        "a wrong token": "wheelyard-wrong",
    }[who]
    code, output = pip(venv, index.simple_url(token), SECRET.name)
    assert code != 0
    assert "No matching distribution found for secret-lib" in output
    # The public project installs all the same.
    code, output = pip(venv, index.simple_url(token), OPEN.name)
    assert code == 0, output
