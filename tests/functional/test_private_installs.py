"""pip and uv against a private index on loopback: installing with a read token (in the URL,
from netrc, from uv's per-index variables), and refused without credentials or with wrong
ones; twine uploads with an upload token as before."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, UV, new_venv
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import post_upload

pytestmark = pytest.mark.clients

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB = Project("private-lib", "1.0")
READ_SCOPE = ("--scope", "read")
ADA_LOGIN = ("--email", "ada@example.com", "--password", PASSWORD)


@dataclass(frozen=True)
class PrivateIndex:
    server: LiveServer
    read_token: str

    @property
    def host(self) -> str:
        return urlsplit(self.server.url).netloc

    def simple_url(self, credentials: str = "") -> str:
        at = f"{credentials}@" if credentials else ""
        return f"http://{at}{self.host}/simple/"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateIndex]:
    var_dir = tmp_path_factory.mktemp("private")
    with run_server(var_dir, postgres_url(), env={"WHEELYARD_PRIVATE": "1"}) as server:
        wheelyard_cli(server, "user", "create", "--name", "Ada", *ADA_LOGIN)
        upload = wheelyard_cli(server, "token", "create", "--email", "ada@example.com")
        read = wheelyard_cli(
            server, "token", "create", "--email", "ada@example.com", "--scope", "read"
        )
        status, text = post_upload(
            server.url, wheel(LIB), "__token__", upload.strip().splitlines()[-1]
        )
        assert status == 200, text
        yield PrivateIndex(server, read.strip().splitlines()[-1])


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


def pip(venv: Path, url: str, env: Mapping[str, str] = {}, *more: str) -> tuple[int, str]:
    python = venv / "bin" / "python"
    options = ["--no-cache-dir", "--index-url", url, *more, LIB.name]
    return run([sys.executable, "-m", "pip", "--python", python, "install", *options], env)


def uv(venv: Path, args: Sequence[str], env: Mapping[str, str] = {}) -> tuple[int, str]:
    return run([UV, "pip", "install", "--python", venv, *args, LIB.name], env)


def netrc(home: Path, index: PrivateIndex, password: str) -> dict[str, str]:
    host = index.host.split(":")[0]
    path = home / ".netrc"
    path.write_text(f"machine {host} login __token__ password {password}\n")
    path.chmod(0o600)
    return {"NETRC": str(path), "HOME": str(home)}


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return new_venv(tmp_path / "venv")


def test_pip_installs_with_a_read_token_in_the_url(index: PrivateIndex, venv: Path) -> None:
    code, output = pip(venv, index.simple_url(f"__token__:{index.read_token}"))
    assert code == 0, output


def test_pip_installs_with_a_keyring(index: PrivateIndex, venv: Path, tmp_path: Path) -> None:
    # pip asks the keyring only after a 401, for the user in the URL; it runs the keyring
    # command (beside this interpreter), which loads the test backend.
    env = {
        "PYTHON_KEYRING_BACKEND": "tests.helpers.keyring_backend.EnvironmentKeyring",
        "WHEELYARD_TEST_KEYRING": f"__token__:{index.read_token}",
        "PYTHONPATH": str(REPO_ROOT),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    url = index.simple_url("__token__")
    code, output = pip(venv, url, env, "--keyring-provider", "subprocess")
    assert code == 0, output
    wrong = {**env, "WHEELYARD_TEST_KEYRING": "__token__:wrong"}
    other = new_venv(tmp_path / "other")
    code, output = pip(other, url, wrong, "--keyring-provider", "subprocess")
    assert code != 0


def test_pip_installs_with_netrc(index: PrivateIndex, venv: Path, tmp_path: Path) -> None:
    code, output = pip(venv, index.simple_url(), netrc(tmp_path, index, index.read_token))
    assert code == 0, output


@pytest.mark.parametrize(
    "credentials", ["", "__token__:wheelyard-wrong", "ada%40example.com:wrong-password"]
)
def test_pip_is_refused_without_good_credentials(
    index: PrivateIndex, venv: Path, credentials: str
) -> None:
    code, output = pip(venv, index.simple_url(credentials))
    assert code != 0
    # Without credentials pip says only that it found nothing; with wrong ones, the 401.
    assert "401" in output or "No matching distribution found for private-lib" in output


def test_uv_installs_with_credentials_in_the_index_url(index: PrivateIndex, venv: Path) -> None:
    url = index.simple_url(f"__token__:{index.read_token}")
    code, output = uv(venv, [], {"UV_INDEX_URL": url})
    assert code == 0, output


def test_uv_installs_with_its_per_index_credentials(index: PrivateIndex, venv: Path) -> None:
    env = {"UV_INDEX_PRIVATE_USERNAME": "__token__", "UV_INDEX_PRIVATE_PASSWORD": index.read_token}
    args = ["--index", f"private={index.simple_url()}", "--default-index", index.simple_url()]
    code, output = uv(venv, args, env)
    assert code == 0, output


def test_uv_installs_with_netrc(index: PrivateIndex, venv: Path, tmp_path: Path) -> None:
    code, output = uv(
        venv, ["--index-url", index.simple_url()], netrc(tmp_path, index, index.read_token)
    )
    assert code == 0, output


@pytest.mark.parametrize("credentials", ["", "__token__:wheelyard-wrong"])
def test_uv_is_refused_without_good_credentials(
    index: PrivateIndex, venv: Path, credentials: str
) -> None:
    code, output = uv(venv, ["--index-url", index.simple_url(credentials)])
    assert code != 0
    assert "401" in output or "Unauthorized" in output or "not found" in output.lower(), output
