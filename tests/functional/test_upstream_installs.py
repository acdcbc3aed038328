"""pip and uv install through wheelyard in front of upstream indexes on loopback: a second
wheelyard and a static PEP 503 tree. The upstream stopped, what was cached still installs;
a local project is never mixed with the upstream's releases of its name."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, UV, new_venv
from tests.helpers.live_server import LiveServer, run_server, stop
from tests.helpers.uploads import post_upload
from tests.helpers.upstreams import seed, static_index, uploader_token, write_static_tree

pytestmark = pytest.mark.clients

DEMO = Project("up-demo", "2.0")
CONFUSED_UPSTREAM = Project("conf-demo", "9.0")
CONFUSED_LOCAL = Project("conf-demo", "1.0")
NEVER_ASKED = Project("later-lib", "1.0")
ACME_UPSTREAM = Project("acme-tools", "5.0")
ACME_LOCAL = Project("acme-tools", "0.1")
TAKEN = Project("taken-name", "1.0")
# One worker: the test of concurrent first downloads counts one fetch per worker.
WORKERS = ("--workers", "1")
MANY = wheel(Project("static-many", "1.0"))
TWICE = wheel(Project("static-twice", "1.0"))


@dataclass(frozen=True)
class Setup:
    upstream: LiveServer
    proxy: LiveServer
    static_log: Path
    static_url: str
    token: str  # a user's who is no site admin

    @property
    def index_url(self) -> str:
        return self.proxy.url + "/simple/"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("upstream-installs")
    static_root = base / "static"
    write_static_tree(static_root, "static-many", [MANY])
    write_static_tree(static_root, "static-twice", [TWICE])
    log = base / "static.log"
    with (
        run_server(base / "upstream", postgres_url()) as upstream,
        static_index(static_root, log) as static_url,
    ):
        dists = [wheel(Project("up-demo", "1.0")), wheel(DEMO)]
        upstream_only = [wheel(CONFUSED_UPSTREAM), wheel(NEVER_ASKED), wheel(ACME_UPSTREAM)]
        seed(upstream, [*dists, *upstream_only, wheel(TAKEN)])
        env = {
            "WHEELYARD_UPSTREAM_URL": f"{upstream.url}/simple/,{static_url}",
            # Every page revalidated: the stopped upstream shows at once.
            "WHEELYARD_UPSTREAM_TTL": "0",
            "WHEELYARD_UPSTREAM_TIMEOUT": "5",
            "WHEELYARD_UPSTREAM_BLOCK": "acme-*",
        }
        with run_server(base / "proxy", postgres_url(), env=env, args=WORKERS) as proxy:
            # A site admin may take a name the upstream has.
            seed(proxy, [wheel(CONFUSED_LOCAL)], "admin@example.com")
            token = uploader_token(proxy, "dev@example.com")
            yield Setup(upstream, proxy, log, static_url, token)


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


def pip_install(venv: Path, url: str, requirement: str) -> tuple[int, str]:
    python = venv / "bin" / "python"
    options = ["--no-cache-dir", "--index-url", url, requirement]
    return run([sys.executable, "-m", "pip", "--python", python, "install", *options])


def installed(venv: Path, name: str) -> str:
    code, output = run([venv / "bin" / "python", "-c", f"import {name}; print({name}.__version__)"])
    assert code == 0, output
    return output.strip()


def test_pip_and_uv_install_an_upstream_project_through_wheelyard(
    setup: Setup, tmp_path: Path
) -> None:
    venv = new_venv(tmp_path / "pip")
    code, output = pip_install(venv, setup.index_url, "up-demo")
    assert code == 0, output
    assert installed(venv, "up_demo") == "2.0"
    other = new_venv(tmp_path / "uv")
    code, output = run(
        [UV, "pip", "install", "--python", other, "--index-url", setup.index_url, "up-demo"]
    )
    assert code == 0, output
    assert installed(other, "up_demo") == "2.0"


def test_a_local_project_wins_over_a_higher_upstream_version(setup: Setup, tmp_path: Path) -> None:
    venv = new_venv(tmp_path / "venv")
    code, output = pip_install(venv, setup.index_url, "conf-demo")
    assert code == 0, output
    assert installed(venv, "conf_demo") == "1.0"


def test_a_new_project_named_like_an_upstream_one_is_refused_unless_blocked(
    setup: Setup, tmp_path: Path
) -> None:
    status, text = post_upload(setup.proxy.url, wheel(TAKEN), "__token__", setup.token)
    assert status == 403
    assert "taken-name" in text
    assert setup.upstream.url in text
    # A blocked name is never the upstream's: it may be created, and pip gets only ours.
    status, text = post_upload(setup.proxy.url, wheel(ACME_LOCAL), "__token__", setup.token)
    assert status == 200, text
    venv = new_venv(tmp_path / "venv")
    code, output = pip_install(venv, setup.index_url, "acme-tools")
    assert code == 0, output
    assert installed(venv, "acme_tools") == "0.1"


def at_once(url: str, count: int) -> list[bytes]:
    """``count`` GETs of ``url`` at the same time, each on a connection of its own."""

    def get(_: int) -> bytes:
        with urllib.request.urlopen(url, timeout=60) as response:
            body: bytes = response.read()
            return body

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(get, range(count)))


def test_concurrent_first_downloads_fetch_the_file_once(setup: Setup) -> None:
    url = f"{setup.proxy.url}/packages/upstream/static-many/{MANY.filename}"
    bodies = at_once(url, 16)
    assert all(body == MANY.content for body in bodies)
    # The server runs one worker: its sixteen first requests shared one fetch.
    assert setup.static_log.read_text().count(f"GET /files/{MANY.filename} ") == 1


def test_the_workers_of_a_node_fetch_a_file_once_between_them(setup: Setup, tmp_path: Path) -> None:
    env = {"WHEELYARD_UPSTREAM_URL": setup.static_url}
    with run_server(tmp_path / "two", postgres_url(), env=env, args=("--workers", "2")) as two:
        # A new connection each: the kernel spreads them over both workers.
        bodies = at_once(f"{two.url}/packages/upstream/static-twice/{TWICE.filename}", 32)
    assert all(body == TWICE.content for body in bodies)
    assert setup.static_log.read_text().count(f"GET /files/{TWICE.filename} ") == 1


def test_with_the_upstream_stopped_cached_installs_work_and_others_fail_with_the_reason(
    setup: Setup, tmp_path: Path
) -> None:
    # Last in the module: it stops the upstream the others use.
    venv = new_venv(tmp_path / "before")
    code, output = pip_install(venv, setup.index_url, "up-demo")
    assert code == 0, output
    stop(setup.upstream)
    fresh = new_venv(tmp_path / "after")
    code, output = pip_install(fresh, setup.index_url, "up-demo")
    assert code == 0, output
    assert installed(fresh, "up_demo") == "2.0"
    with urllib.request.urlopen(setup.index_url + "up-demo/", timeout=30) as response:
        assert response.headers["X-Wheelyard-Upstream"] == "stale"
    code, output = pip_install(new_venv(tmp_path / "never"), setup.index_url, "later-lib")
    assert code != 0
    assert "later-lib" in output
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(setup.index_url + "later-lib/", timeout=30)
    assert refused.value.code == 502
    assert "Upstream unavailable" in refused.value.read().decode()
