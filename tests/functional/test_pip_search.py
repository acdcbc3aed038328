"""``pip search --index http://HOST/pypi QUERY`` against a live server: pip's own XML-RPC
client, answered from the search index, in the search page's order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

import pytest

from tests.helpers.dists import Project, wheel
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import LiveServer
from tests.helpers.upstreams import seed

pytestmark = pytest.mark.clients

PROJECTS = (
    Project("flask", "3.0.0", summary="A micro web framework"),
    Project("flask-login", "0.6.3", summary="User sessions for flask apps"),
    Project("pytest-flask", "1.3", summary="pytest helpers"),
    Project("quart", "0.19", summary="An async framework, like flask"),
    Project("requests", "2.32", summary="HTTP for humans"),
)


@pytest.fixture(scope="module")
def index(live_server: LiveServer) -> LiveServer:
    seed(live_server, [wheel(project) for project in PROJECTS])
    return live_server


def pip_search(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "search", "--index", f"{server.url}/pypi", *args],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def page_order(server: LiveServer, query: str) -> list[str]:
    with urllib.request.urlopen(f"{server.url}/search?q={query}", timeout=30) as response:
        body = response.read().decode()
    return re.findall(r'<span class="name">([^<]+)</span>', body)


def test_pip_search_lists_matches_ranked_as_the_search_page(index: LiveServer) -> None:
    done = pip_search(index, "flask")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    names = [line.split(" (")[0] for line in lines if line and not line.startswith(" ")]
    assert names == page_order(index, "flask") == ["flask", "flask-login", "pytest-flask", "quart"]
    assert lines[0].startswith("flask (3.0.0)")
    assert "A micro web framework" in lines[0]


def test_pip_search_without_matches_says_so(index: LiveServer) -> None:
    done = pip_search(index, "zzzzunknown")
    # pip's own exit code for "no matches" (23), and nothing else went wrong.
    assert done.returncode == 23, done.stdout + done.stderr
    assert done.stdout == ""
