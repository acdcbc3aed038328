"""PostgreSQL stopped and started under load: the server answers throughout and recovers alone.

The test brings its own PostgreSQL cluster (``tests.helpers.private_postgres``): the suite's is the
machine's shared server and must not be restarted. So it does not depend on the suite's
database, and runs once, in the SQLite run of the suite; the PostgreSQL run skips it.

A server with one worker runs on the private cluster while two threads ask for simple
pages, the JSON API, a file and the stats API (which reads the database every time), without
pause. PostgreSQL is stopped (``-m fast``, then in a
second outage ``-m immediate``, as in a crash) and started again. Throughout, every request
is answered, and quickly: 200 (pages the server holds in memory) or 503 with Retry-After,
never a 500, a hang or a closed connection. An upload during the outage hears 503. Once
PostgreSQL is back the server answers 200 again within seconds, without being restarted,
and every download it served is written, those queued during the outage included.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from tests.helpers.dists import Dist, Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer, launched, wait_until_up
from tests.helpers.passwords import cheap_passwords
from tests.helpers.private_postgres import Cluster, binaries, private_cluster
from tests.helpers.uploads import upload_form
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.download import Download
from wheelyard.services.accounts import tokens
from wheelyard.services.ops import schema

# How soon after PostgreSQL is back every request must succeed again.
RECOVERY_SECONDS = 5.0
# An answer slower than this, while the database is down, counts as a hang.
ANSWER_SECONDS = 10.0
OUTAGE_SECONDS = 2.0
PROJECT = Project("restart-demo", "1.0")

pytestmark = [
    pytest.mark.skipif(
        bool(postgres_url()),
        reason="brings its own PostgreSQL cluster: runs once, in the SQLite run of the suite",
    ),
    pytest.mark.skipif(
        binaries() is None, reason="PostgreSQL's initdb and pg_ctl are not installed"
    ),
]


@dataclass(frozen=True)
class Answer:
    kind: str
    started: float
    elapsed: float
    status: int | str  # the HTTP status, or the name of the error instead of an answer
    retry_after: str | None


@dataclass
class Load:
    """Threads asking for pages, API documents and a file until told to stop."""

    urls: dict[str, str]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, offset: int) -> None:
        kinds = list(self.urls)
        with httpx.Client(timeout=ANSWER_SECONDS) as client:
            number = offset
            while not self.stop.is_set():
                kind = kinds[number % len(kinds)]
                number += 1
                started = time.monotonic()
                try:
                    response = client.get(self.urls[kind])
                except httpx.HTTPError as error:
                    status: int | str = type(error).__name__
                    retry_after = None
                else:
                    status = response.status_code
                    retry_after = response.headers.get("retry-after")
                elapsed = time.monotonic() - started
                self.answers.append(Answer(kind, started, elapsed, status, retry_after))
                time.sleep(0.01)

    def between(self, start: float, end: float) -> list[Answer]:
        return [answer for answer in self.answers if start <= answer.started < end]


@dataclass(frozen=True)
class Setup:
    cluster: Cluster
    server: LiveServer
    engine: sa.Engine
    token: str
    file_url: str


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with private_cluster() as cluster:
        admin = sa.create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql("CREATE DATABASE wheelyard")
        admin.dispose()
        url = sa.make_url(cluster.admin_url).set(database="wheelyard")
        database_url = url.render_as_string(hide_password=False)
        engine = create_engine(database_url)
        try:
            schema.upgrade(engine)
            passwords = cheap_passwords()
            with transaction(session_factory(engine)) as db:
                ada = Factory(db, passwords).user(email="ada@example.com")
                _, secret = tokens.create_token(db, ada, description="restart test")
            with launched(tmp_path / "server", database_url, args=["--workers", "1"]) as server:
                wait_until_up(server)
                dist = wheel(PROJECT)
                assert upload(server, secret, dist, PROJECT) == 200, server.log()
                page = httpx.get(
                    f"{server.url}/simple/{PROJECT.name}/",
                    headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                )
                file_url = str(page.url.join(page.json()["files"][0]["url"]))
                yield Setup(cluster, server, engine, secret, file_url)
        finally:
            engine.dispose()


def upload(server: LiveServer, token: str, dist: Dist, project: Project) -> int:
    form = upload_form(dist, project)
    with httpx.Client(auth=("__token__", token), timeout=ANSWER_SECONDS * 3) as client:
        response = client.post(
            server.url + "/legacy/",
            data=form,
            files={"content": (dist.filename, dist.content, "application/octet-stream")},
        )
    return response.status_code


def downloads_written(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(Download)) or 0


def outage(setup: Setup, load: Load, mode: str, version: str) -> float:
    """Stop PostgreSQL, check the answers meanwhile, start it; how long recovery took."""
    stopping = time.monotonic()
    setup.cluster.stop(mode)
    stopped = time.monotonic()
    project = Project(PROJECT.name, version)
    refused = upload(setup.server, setup.token, wheel(project), project)
    time.sleep(OUTAGE_SECONDS)
    starting = time.monotonic()
    setup.cluster.start()
    started = time.monotonic()
    time.sleep(RECOVERY_SECONDS)

    during = load.between(stopped, starting)
    assert refused == 503, f"an upload while PostgreSQL is down ({mode}): {refused}"
    assert {answer.status for answer in load.between(stopping, started)} <= {200, 503}
    # Pages and files the workers hold in memory may keep answering through the outage;
    # the stats API reads the database on every request, so it shows the outage.
    assert [a for a in during if a.kind == "stats" and a.status == 503], "never down?"
    assert all(a.retry_after for a in during if a.status == 503)
    assert max(answer.elapsed for answer in during) < ANSWER_SECONDS
    after = load.between(started, time.monotonic())
    recovered = min(a.started for a in after if a.kind == "stats" and a.status == 200)
    late = [a for a in load.between(recovered, time.monotonic()) if a.status != 200]
    assert late == [], f"after PostgreSQL came back ({mode})"
    assert setup.server.process.poll() is None, "the server exited"
    # The upload refused during the outage goes through now.
    assert upload(setup.server, setup.token, wheel(project), project) == 200
    return recovered - started


def test_the_server_rides_out_postgresql_restarts(setup: Setup) -> None:
    server = setup.server
    load = Load(
        {
            "simple": f"{server.url}/simple/{PROJECT.name}/",
            "index": f"{server.url}/simple/",
            "json": f"{server.url}/pypi/{PROJECT.name}/json",
            "download": setup.file_url,
            "stats": f"{server.url}/api/packages/{PROJECT.name}/recent",
        }
    )
    threads = [threading.Thread(target=load.run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        recoveries = [
            outage(setup, load, "fast", "2.0"),
            outage(setup, load, "immediate", "3.0"),
        ]
    finally:
        load.stop.set()
        for thread in threads:
            thread.join()
    assert {a.status for a in load.answers} <= {200, 503}, server.log()
    assert all(seconds < RECOVERY_SECONDS for seconds in recoveries), recoveries

    # Every download served was written: those queued while PostgreSQL was down waited.
    served = sum(1 for a in load.answers if a.kind == "download" and a.status == 200)
    deadline = time.monotonic() + 10
    while downloads_written(setup.engine) < served and time.monotonic() < deadline:
        time.sleep(0.2)
    assert downloads_written(setup.engine) == served
    print(f"recovered in {recoveries[0]:.2f}s (fast) and {recoveries[1]:.2f}s (immediate)")
