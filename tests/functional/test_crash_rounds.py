"""``kill -9`` of the server at random moments: what survives, and what ``storage gc`` leaves.

A hundred rounds on one database and one storage folder (SQLite, or PostgreSQL when the
suite runs there). Each round starts the server, checks what the last crash left as a client
sees it, fires uploads from several threads and kills the server's whole process group
(granian leader and worker) once 0, 1 or 2 uploads have been answered, after a further
random part of the time an upload takes: mid-upload as often as not. Then, with nothing
running:

- every release_files row has its blob, of the row's size and sha256 (and a wheel its
  PEP 658 metadata, of the row's metadata_sha256);
- every upload answered 200 has its row: an acknowledged upload is never lost;
- after the restart, no blob without a row is served (404) and every new row's file is
  listed on its simple page and served whole.

At the end ``wheelyard storage gc --min-age 0`` leaves exactly the blobs rows refer to, and
no pieces of interrupted writes.

Two more kill the server after and amid downloads: every download answered more than 100 ms
before the kill is counted after the restart (the spool is replayed), none twice.

Servers start warm (``tests.helpers.warm_server``): the real ``wheelyard serve``, forked from a
process that has imported it already, so a round costs about a second, not a cold start.
The seed of each run's random delays is in the failure message.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import scratch_database
from tests.helpers.passwords import cheap_passwords
from tests.helpers.uploads import upload_form
from tests.helpers.warm_server import Forker, WarmServer, forker, kill_hard
from wheelyard.app import DOWNLOAD_SPOOL
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.download import Download
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.accounts import tokens
from wheelyard.services.analytics.recorder import FLUSH_INTERVAL
from wheelyard.services.ops import schema
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.storage.local import TEMP_PREFIX, LocalStorage

ROUNDS = 100
UPLOADERS = 3
# Kills come after 0, 1 or 2 uploads have been answered in the round, then after a random
# part of the time an upload takes (measured as the rounds go): anywhere in an upload, on a
# fast machine as on a busy one, and every round gets somewhere.
ANSWERED_BEFORE_KILL = (0, 0, 1, 2)
FIRST_LATENCY_GUESS = 0.3
ANSWER_TIMEOUT = 60.0
# The recorder's flush interval, and how long after a batch of downloads the test waits
# before killing: several intervals, so that a flush has started and finished meanwhile
# even on a busy machine.
SETTLE = 4 * FLUSH_INTERVAL
# A download answered this long before a kill -9 is on disk (the spool syncs within a few
# milliseconds): never lost.
DURABLE_AFTER = 0.1
# How long a started server may take to store what the spool holds (on a busy machine).
REPLAY_TIMEOUT = 30.0
DOWNLOAD_ROUNDS = 5
DOWNLOADERS = 4


@dataclass(frozen=True)
class Index:
    var_dir: Path
    database_url: str
    engine: sa.Engine
    token: str

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(self.var_dir / "files")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    """A migrated database with an uploader's token, and the folder its files go to."""
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine)
            passwords = cheap_passwords()
            with transaction(session_factory(engine)) as db:
                ada = Factory(db, passwords).user(email="ada@example.com")
                _, secret = tokens.create_token(db, ada, description="crash rounds")
            yield Index(tmp_path, url, engine, secret)
        finally:
            engine.dispose()


@pytest.fixture
def servers() -> Iterator[Forker]:
    with forker() as helper:
        yield helper


@dataclass
class Round:
    """What the uploaders of one round sent and heard."""

    acknowledged: list[Dist] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # of the acknowledged uploads
    answered: threading.Condition = field(default_factory=threading.Condition)


def dists_for(round_number: int, uploader: int) -> Iterator[tuple[Dist, Project]]:
    """New files only: each upload a new release (some of a new project), wheels and sdists."""
    for number in range(1000):
        project = Project(f"crash-{uploader}-{round_number % 7}", f"{round_number}.{number}")
        dist = sdist(project) if number % 3 == 2 else wheel(project)
        yield dist, project


def upload(client: httpx.Client, server: WarmServer, dist: Dist, project: Project) -> int:
    form = upload_form(dist, project)
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    return client.post(server.url + "/legacy/", data=form, files=files).status_code


def keep_uploading(
    index: Index, server: WarmServer, round_number: int, uploader: int, seen: Round
) -> None:
    """Uploads one file after another until the server dies under them."""
    with httpx.Client(auth=("__token__", index.token), timeout=ANSWER_TIMEOUT) as client:
        for dist, project in dists_for(round_number, uploader):
            started = time.monotonic()
            try:
                status = upload(client, server, dist, project)
            except httpx.TransportError:
                return  # killed
            with seen.answered:
                if status == 200:
                    seen.acknowledged.append(dist)
                    seen.latencies.append(time.monotonic() - started)
                else:
                    seen.refused.append(f"{dist.filename}: {status}")
                seen.answered.notify_all()


def crash_round(
    index: Index, server: WarmServer, round_number: int, answered: int, delay: float
) -> Round:
    """Uploads until ``answered`` have been acknowledged, then ``delay`` seconds, then kill -9."""
    seen = Round()
    uploaders = [
        threading.Thread(target=keep_uploading, args=(index, server, round_number, n, seen))
        for n in range(UPLOADERS)
    ]
    for thread in uploaders:
        thread.start()
    with seen.answered:
        assert seen.answered.wait_for(
            lambda: len(seen.acknowledged) >= answered or bool(seen.refused), ANSWER_TIMEOUT
        ), f"round {round_number}: no upload answered in {ANSWER_TIMEOUT}s"
    time.sleep(delay)
    kill_hard(server)
    for thread in uploaders:
        thread.join(timeout=ANSWER_TIMEOUT)
    return seen


@dataclass(frozen=True)
class Row:
    filename: str
    storage_path: str
    size: int
    sha256: str
    metadata_sha256: str | None


def rows(index: Index) -> dict[str, Row]:
    with index.engine.connect() as connection:
        found = connection.execute(
            sa.select(
                ReleaseFile.filename,
                ReleaseFile.storage_path,
                ReleaseFile.size,
                ReleaseFile.sha256_digest,
                ReleaseFile.metadata_sha256,
            )
        ).all()
    return {name: Row(name, path, size, sha, meta) for name, path, size, sha, meta in found}


def check_blobs_of(index: Index, new_rows: list[Row]) -> None:
    """Every row's blob is there, whole; a wheel's metadata beside it."""
    for row in new_rows:
        blob = index.storage.root / row.storage_path
        assert blob.is_file(), f"{row.filename} has a row but no blob"
        content = blob.read_bytes()
        assert len(content) == row.size, f"{row.filename}: blob of the wrong size"
        assert hashlib.sha256(content).hexdigest() == row.sha256, f"{row.filename}: wrong bytes"
        if row.metadata_sha256 is not None:
            metadata = (index.storage.root / (row.storage_path + METADATA_SUFFIX)).read_bytes()
            assert hashlib.sha256(metadata).hexdigest() == row.metadata_sha256


def referenced(all_rows: dict[str, Row]) -> set[str]:
    paths = {row.storage_path for row in all_rows.values()}
    return paths | {
        row.storage_path + METADATA_SUFFIX
        for row in all_rows.values()
        if row.metadata_sha256 is not None
    }


def check_served(server: WarmServer, new_rows: list[Row], orphans: set[str]) -> None:
    """As a client sees it: new files listed and served whole, orphans never served."""
    with httpx.Client(timeout=30) as client:
        for path in sorted(orphans):
            response = client.get(f"{server.url}/packages/{path}")
            assert response.status_code == 404, f"the orphan {path} is served"
        pages = {
            f"{server.url}/simple/{row.filename.split('-')[0].replace('_', '-')}/"
            for row in new_rows
        }
        listed: dict[str, httpx.URL] = {}
        for page_url in pages:
            page = client.get(page_url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
            assert page.status_code == 200, page.text
            for entry in page.json()["files"]:
                listed[entry["filename"]] = httpx.URL(page_url).join(entry["url"])
        for row in new_rows:
            assert row.filename in listed, f"{row.filename} is not on its simple page"
            url = listed[row.filename]
            response = client.get(url)
            assert response.status_code == 200, f"{row.filename}: {response.status_code}"
            assert hashlib.sha256(response.content).hexdigest() == row.sha256


def test_kill_9_during_uploads_leaves_rows_and_blobs_consistent(
    index: Index, servers: Forker
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    context = f"(random seed {seed})"
    known: dict[str, Row] = {}
    new_rows: list[Row] = []
    orphans: set[str] = set()
    acknowledged = 0
    latencies: list[float] = []
    for round_number in range(ROUNDS):
        server = servers.start(index.var_dir, index.database_url)
        check_served(server, new_rows, orphans)
        latency = statistics.median(latencies[-20:]) if latencies else FIRST_LATENCY_GUESS
        answered = rng.choice(ANSWERED_BEFORE_KILL)
        seen = crash_round(index, server, round_number, answered, rng.uniform(0, latency))
        latencies += seen.latencies

        assert seen.refused == [], f"round {round_number} {context}: {seen.refused}"
        now = rows(index)
        new_rows = [row for name, row in now.items() if name not in known]
        check_blobs_of(index, new_rows)
        missing = [dist.filename for dist in seen.acknowledged if dist.filename not in now]
        assert missing == [], f"acknowledged but lost in round {round_number} {context}"
        known = now
        acknowledged += len(seen.acknowledged)
        orphans = set(index.storage.iter_paths()) - referenced(known)

    # Some uploads were cut short after storing their blobs (orphans) or while writing them
    # (temporary files); garbage collection takes those and nothing else.
    leftovers = list(index.storage.root.rglob(f"{TEMP_PREFIX}*"))
    result = subprocess.run(
        [sys.executable, "-m", "wheelyard", "storage", "gc", "--min-age", "0"],
        env={
            **os.environ,
            "WHEELYARD_DATABASE_URL": index.database_url,
            "WHEELYARD_VAR_DIR": str(index.var_dir),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"removed {len(orphans)} orphans and {len(leftovers)} pieces" in result.stdout
    final = rows(index)
    assert set(index.storage.iter_paths()) == referenced(final)
    assert list(index.storage.root.rglob(f"{TEMP_PREFIX}*")) == []
    check_blobs_of(index, list(final.values()))
    assert acknowledged <= len(final)
    print(  # for the record of a run (pytest -s): how the kills landed
        f"{ROUNDS} rounds {context}: {acknowledged} uploads acknowledged, {len(final)} rows, "
        f"{len(orphans)} orphan blobs and {len(leftovers)} temporary files collected"
    )


def downloads_written(index: Index) -> tuple[int, int]:
    """Raw rows, and the downloads the rollups count."""
    with index.engine.connect() as connection:
        written = connection.scalar(sa.select(sa.func.count()).select_from(Download))
        counted = connection.scalar(sa.select(sa.func.sum(DownloadCount.downloads)))
    return written or 0, counted or 0


def replayed(index: Index, expected: int) -> tuple[int, int]:
    """The counts once a started server has replayed the spool (or a timeout has passed),
    and a while after, so that a second replay of one segment would show."""
    deadline = time.monotonic() + REPLAY_TIMEOUT
    while downloads_written(index)[0] < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(SETTLE)
    return downloads_written(index)


def spool_segments(index: Index) -> list[Path]:
    return list((index.var_dir / DOWNLOAD_SPOOL).glob("*.seg"))


def uploaded_file_url(index: Index, server: WarmServer) -> str:
    project = Project("counted", "1.0")
    dist = wheel(project)
    with httpx.Client(auth=("__token__", index.token), timeout=30) as client:
        assert upload(client, server, dist, project) == 200
    return "/packages/" + rows(index)[dist.filename].storage_path


def test_kill_9_loses_no_answered_download_and_counts_none_twice(
    index: Index, servers: Forker
) -> None:
    server = servers.start(index.var_dir, index.database_url)
    path = uploaded_file_url(index, server)
    answered = 200
    with httpx.Client(timeout=30) as client:
        for _ in range(answered):
            assert client.get(server.url + path).status_code == 200
    time.sleep(DURABLE_AFTER)
    kill_hard(server)

    # Whatever the last flush had stored, the rest is in the spool and the next start
    # stores it; the rollups move with the raw rows.
    server = servers.start(index.var_dir, index.database_url)
    assert replayed(index, answered) == (answered, answered)
    assert spool_segments(index) == []

    # That server goes on counting from there, and its own downloads survive it too.
    with httpx.Client(timeout=30) as client:
        assert client.get(server.url + path).status_code == 200
    time.sleep(DURABLE_AFTER)
    kill_hard(server)
    server = servers.start(index.var_dir, index.database_url)
    assert replayed(index, answered + 1) == (answered + 1, answered + 1)
    kill_hard(server)


@dataclass
class Downloads:
    """What the downloaders of one round sent, and when each 200 came."""

    attempts: int = 0
    answers: list[float] = field(default_factory=list)  # monotonic times
    lock: threading.Lock = field(default_factory=threading.Lock)


def keep_downloading(url: str, seen: Downloads) -> None:
    """Downloads one after another until the server dies under them."""
    with httpx.Client(timeout=30) as client:
        while True:
            with seen.lock:
                seen.attempts += 1
            try:
                response = client.get(url)
            except httpx.TransportError:
                return  # killed
            assert response.status_code == 200
            with seen.lock:
                seen.answers.append(time.monotonic())


def test_kill_9_amid_downloads_keeps_every_one_answered_before_it(
    index: Index, servers: Forker
) -> None:
    """Several clients download without pause; the kill comes at a random moment."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = servers.start(index.var_dir, index.database_url)
    path = uploaded_file_url(index, server)
    sent = 0
    durable = 0
    for round_number in range(DOWNLOAD_ROUNDS):
        seen = Downloads()
        clients = [
            threading.Thread(target=keep_downloading, args=(server.url + path, seen))
            for _ in range(DOWNLOADERS)
        ]
        for thread in clients:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.5))
        killed_at = time.monotonic()
        kill_hard(server)
        for thread in clients:
            thread.join(timeout=30)
        sent += seen.attempts
        durable += sum(1 for answered_at in seen.answers if answered_at < killed_at - DURABLE_AFTER)

        server = servers.start(index.var_dir, index.database_url)
        written, counted = replayed(index, durable)
        context = f"round {round_number} (random seed {seed})"
        assert durable <= written, f"{context}: {durable - written} answered downloads lost"
        assert written <= sent, f"{context}: {written - sent} more rows than requests"
        assert counted == written, context
    kill_hard(server)
