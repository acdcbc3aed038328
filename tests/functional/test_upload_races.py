"""Uploads racing each other on a live server with two worker processes.

Fifty uploads of different versions into a project that does not exist yet must make one
project with one owner and every file exactly once, each answered 200. Twenty uploads of one
filename with different bytes must make one winner; the others hear "File already exists",
and no loser's bytes stay behind in storage. Runs on SQLite, and on PostgreSQL when the suite
does (run_server gives the server a database of its own either way).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers import index_totals
from tests.helpers.dists import Dist, Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import upload_form
from wheelyard.data.db_session import create_engine
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services import journal

NEW_PROJECT_RACERS = 50
SAME_FILENAME_RACERS = 20


@dataclass(frozen=True)
class Index:
    server: LiveServer
    engine: sa.Engine
    token: str

    @property
    def storage(self) -> Path:
        return self.server.var_dir / "files"

    def blobs(self, filename_prefix: str) -> dict[str, bytes]:
        """The stored files whose names start with the prefix, and any temporary leftover."""
        found = {}
        for path in self.storage.rglob("*"):
            if path.is_dir():
                assert any(path.iterdir()), f"an empty folder was left behind: {path}"
            elif path.name.startswith((filename_prefix, ".incoming-")):
                found[path.relative_to(self.storage).as_posix()] = path.read_bytes()
        return found


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """Two worker processes, so that racers meet in different processes as well as threads."""
    var_dir = tmp_path_factory.mktemp("races")
    postgres = postgres_url()
    with run_server(var_dir, postgres, args=["--workers", "2"]) as server:
        wheelyard_cli(server, "user", "create", "--name", "Ada", "--email", "ada@example.com",
                   "--password", PASSWORD)  # fmt: skip
        token = wheelyard_cli(server, "token", "create", "--email", "ada@example.com").split()[-1]
        engine = create_engine(server.database_url)
        try:
            yield Index(server, engine, token)
        finally:
            engine.dispose()


@dataclass(frozen=True)
class Result:
    status: int
    text: str


def race(index: Index, entrants: Sequence[tuple[Dist, Project]]) -> list[Result]:
    """Every entrant's upload, sent at the same moment from a thread of its own."""
    results: list[Result | None] = [None] * len(entrants)
    start = threading.Barrier(len(entrants))

    def enter(number: int, dist: Dist, project: Project) -> None:
        with httpx.Client(auth=("__token__", index.token), timeout=120) as client:
            start.wait()
            response = client.post(
                index.server.url + "/legacy/",
                data=upload_form(dist, project),
                files={"content": (dist.filename, dist.content, "application/octet-stream")},
            )
        results[number] = Result(response.status_code, response.text)

    threads = [
        threading.Thread(target=enter, args=(number, dist, project))
        for number, (dist, project) in enumerate(entrants)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result is not None for result in results), index.server.log()
    return [result for result in results if result is not None]


def assert_totals_exact(index: Index) -> None:
    """The running totals (kept by triggers) agree with a count, however writers interleaved."""
    with Session(index.engine) as db:
        index_totals.assert_totals_exact(db)


def test_racing_versions_make_one_project_with_every_file_once(index: Index) -> None:
    projects = [Project("race-lib", f"1.{number}") for number in range(NEW_PROJECT_RACERS)]
    dists = {wheel(project).filename: wheel(project) for project in projects}
    results = race(index, [(wheel(project), project) for project in projects])

    assert [result.status for result in results] == [200] * NEW_PROJECT_RACERS, [
        (result.status, result.text) for result in results if result.status != 200
    ]
    with index.engine.connect() as db:
        assert db.scalars(sa.select(Package.id).where(Package.id.like("race%"))).all() == [
            "race-lib"
        ]
        owners = db.execute(
            sa.select(User.email, Maintainer.role)
            .join(User, User.id == Maintainer.user_id)
            .where(Maintainer.package_id == "race-lib")
        ).all()
        assert [tuple(owner) for owner in owners] == [("ada@example.com", Role.OWNER)]
        versions = db.scalars(sa.select(Release.version).where(Release.package_id == "race-lib"))
        assert sorted(versions) == sorted(project.version for project in projects)
        files = db.execute(
            sa.select(ReleaseFile.filename, ReleaseFile.sha256_digest, ReleaseFile.storage_path)
            .join(Release, Release.id == ReleaseFile.release_id)
            .where(Release.package_id == "race-lib")
        ).all()
        assert sorted(name for name, _, _ in files) == sorted(dists)
        assert all(sha256 == dists[name].sha256 for name, sha256, _ in files)
        registered = db.scalars(
            sa.select(FileRegistry.filename).where(FileRegistry.filename.like("race_lib-%"))
        ).all()
        assert sorted(registered) == sorted(dists)
        actions = db.scalars(
            sa.select(JournalEntry.action).where(JournalEntry.package_id == "race-lib")
        ).all()
        assert sorted(actions) == sorted(
            [journal.Action.CREATE]
            + [journal.Action.NEW_RELEASE, journal.Action.ADD_FILE] * NEW_PROJECT_RACERS
        )
        # The project's serial is its newest journal entry's, whatever order racers committed in.
        newest = db.scalar(
            sa.select(sa.func.max(JournalEntry.id)).where(JournalEntry.package_id == "race-lib")
        )
        assert db.scalar(sa.select(Package.last_serial).where(Package.id == "race-lib")) == newest
    assert_totals_exact(index)
    # Each file's bytes, and its METADATA beside it, and nothing else of race-lib's.
    stored = index.blobs("race_lib-")
    expected = {path: dists[name].content for name, _, path in files}
    expected |= {path + ".metadata": dists[name].metadata.encode() for name, _, path in files}
    assert stored == expected


def test_racing_rebuilds_of_one_file_make_one_winner(index: Index) -> None:
    projects = [
        Project("dup-lib", "1.0", summary=f"Build number {number}")
        for number in range(SAME_FILENAME_RACERS)
    ]
    entrants = [(wheel(project), project) for project in projects]
    assert len({dist.filename for dist, _ in entrants}) == 1
    assert len({dist.sha256 for dist, _ in entrants}) == SAME_FILENAME_RACERS
    results = race(index, entrants)

    winners = [number for number, result in enumerate(results) if result.status == 200]
    assert len(winners) == 1, [(result.status, result.text) for result in results]
    # twine's --skip-existing knows a lost race by these words.
    odd = [
        (result.status, result.text)
        for number, result in enumerate(results)
        if number not in winners
        and not (result.status == 400 and result.text.startswith("File already exists"))
    ]
    assert not odd, odd
    winner = entrants[winners[0]][0]
    with index.engine.connect() as db:
        files = db.execute(
            sa.select(ReleaseFile.sha256_digest, ReleaseFile.storage_path).where(
                ReleaseFile.filename == winner.filename
            )
        ).all()
        assert [sha256 for sha256, _ in files] == [winner.sha256]
        owners = db.scalars(
            sa.select(Maintainer.user_id).where(Maintainer.package_id == "dup-lib")
        ).all()
        assert len(owners) == 1
    assert_totals_exact(index)
    [(_, path)] = files
    # The losers' bytes were never kept: only the winner's file and its METADATA are stored.
    assert index.blobs("dup_lib-") == {
        path: winner.content,
        path + ".metadata": winner.metadata.encode(),
    }
