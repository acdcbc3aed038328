"""A README that takes long to render costs its uploader a 400, not everyone the write lock.

Against a real server: one upload's markdown README renders in time that grows as the square
of its nesting; while the server works on it, another upload and a sign-in go through at
once, and the slow one is refused with the reason when its deadline passes.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.helpers.dists import Dist, Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import post_upload

ADA_LOGIN = ("--email", "ada@example.com", "--password", PASSWORD)
DEADLINE_SECONDS = 3
# Renders for tens of seconds: far past the deadline.
SLOW_README = ">" * 64_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    var_dir = tmp_path_factory.mktemp("slow-readme")
    env = {"WHEELYARD_README_SECONDS": str(DEADLINE_SECONDS)}
    with run_server(var_dir, postgres_url(), env=env) as server:
        wheelyard_cli(server, "user", "create", "--name", "Ada", *ADA_LOGIN)
        yield server


def upload(server: LiveServer, dist: Dist) -> tuple[int, str, float]:
    started = time.monotonic()
    status, text = post_upload(server.url, dist, "ada@example.com", PASSWORD)
    return status, text, time.monotonic() - started


def test_a_slow_readme_is_refused_and_blocks_no_other_write(server: LiveServer) -> None:
    slow = wheel(
        Project(
            "slow-readme", "1.0", description=SLOW_README, description_content_type="text/markdown"
        )
    )
    answers: list[tuple[int, str, float]] = []
    thread = threading.Thread(target=lambda: answers.append(upload(server, slow)))
    thread.start()
    time.sleep(0.5)  # the slow README is rendering now

    status, text, seconds = upload(server, wheel(Project("quick-lib", "1.0")))
    assert status == 200, text
    assert seconds < DEADLINE_SECONDS, f"an unrelated upload waited {seconds:.1f} s"

    thread.join(timeout=60)
    [(status, text, seconds)] = answers
    assert status == 400, text
    assert "did not render within 3 seconds" in text
    assert seconds < DEADLINE_SECONDS + 10
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.url}/simple/slow-readme/")
    assert refused.value.code == 404
    refused.value.close()
