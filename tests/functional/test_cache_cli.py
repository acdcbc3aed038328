"""``wheelyard cache warm`` and ``wheelyard cache prune`` run as an operator runs them, as
subprocesses on a fresh var directory, in front of a static upstream on loopback."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import scratch_database
from tests.helpers.passwords import cheap_passwords
from tests.helpers.upstreams import static_index, write_json_tree
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.upstream_file import UpstreamFile
from wheelyard.data.upstream_page import UpstreamPage
from wheelyard.storage.local import LocalStorage

OLD = "2025-01-01T00:00:00Z"
WARM_1 = [wheel(Project("warm-lib", "1.0")), sdist(Project("warm-lib", "1.0"))]
WARM_15 = [wheel(Project("warm-lib", "1.5")), sdist(Project("warm-lib", "1.5"))]
WARM_RC = wheel(Project("warm-lib", "2.0rc1"))
WARM_3 = wheel(Project("warm-lib", "3.0"))
OTHER = wheel(Project("other-lib", "1.0"))
OTHER_2 = wheel(Project("other-lib", "2.0"))


@dataclass(frozen=True)
class Cache:
    var_dir: Path
    database_url: str
    upstream: str
    log: Path

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(self.var_dir / "files")

    def run(self, *args: str, **env: str) -> tuple[int, str]:
        environment = {
            **os.environ,
            "WHEELYARD_VAR_DIR": str(self.var_dir),
            "WHEELYARD_DATABASE_URL": self.database_url,
            "WHEELYARD_UPSTREAM_URL": self.upstream,
            **env,
        }
        result = subprocess.run(
            [sys.executable, "-m", "wheelyard", "cache", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr

    def requirements(self, text: str) -> str:
        path = self.var_dir.parent / "requirements.txt"
        path.write_text(text)
        return str(path)

    def rows(self) -> dict[str, UpstreamFile]:
        engine = create_engine(self.database_url)
        try:
            with transaction(session_factory(engine), writes=False) as db:
                rows = {row.filename: row for row in db.scalars(sa.select(UpstreamFile))}
                db.expunge_all()
                return rows
        finally:
            engine.dispose()

    def execute(self, statement: sa.Executable) -> None:
        engine = create_engine(self.database_url)
        try:
            with transaction(session_factory(engine)) as db:
                db.execute(statement)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("warm-upstream")
    write_json_tree(
        root,
        "warm-lib",
        [(dist, OLD) for dist in [*WARM_1, *WARM_15, WARM_RC, WARM_3]],
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_json_tree(root, "other-lib", [(OTHER, OLD), (OTHER_2, now)])
    log = root / "requests.log"
    with static_index(root, log) as url:
        yield url, log


@pytest.fixture
def cache(tmp_path: Path, upstream: tuple[str, Path]) -> Iterator[Cache]:
    var_dir = tmp_path / "var"
    with scratch_database(postgres_url(), var_dir) as url:
        yield Cache(var_dir, url, *upstream)


def test_warm_fetches_the_newest_matching_version_on_a_fresh_var_dir(cache: Cache) -> None:
    requirements = cache.requirements(
        "# the pins\nwarm-lib>=1.0,<3  # no pre-releases\n\nOther_Lib\n--index-url x\n"
    )
    code, output = cache.run("warm", "-r", requirements, WHEELYARD_UPSTREAM_MIN_AGE="7d")
    assert code == 0, output
    warmed = {dist.filename for dist in [*WARM_15, OTHER]}
    for name in warmed:
        assert f"fetched {name} (" in output
    # The newest other-lib is in its cooldown: the one before it is what pip would get.
    assert "other-lib 1.0 from" in output
    rows = cache.rows()
    assert set(rows) == warmed | {WARM_15[0].filename + ".metadata", OTHER.filename + ".metadata"}
    for dist in [*WARM_15, OTHER]:
        with cache.storage.open(rows[dist.filename].storage_path) as blob:
            assert blob.read() == dist.content
        assert rows[dist.filename].last_used_date is not None
    # Again: all is cached, nothing is fetched.
    asked = cache.log.read_text().count("GET /files/")
    code, output = cache.run("warm", "-r", requirements, WHEELYARD_UPSTREAM_MIN_AGE="7d")
    assert code == 0, output
    assert f"cached already: {WARM_15[0].filename}" in output
    assert "fetched 0 files" in output
    assert cache.log.read_text().count("GET /files/") == asked


def test_warm_takes_a_pinned_pre_release_and_fails_with_the_reason_for_unknown_names(
    cache: Cache,
) -> None:
    requirements = cache.requirements("warm-lib==2.0rc1\nno-such-lib\nwarm-lib>5\n")
    code, output = cache.run("warm", "-r", requirements)
    assert code != 0
    assert f"fetched {WARM_RC.filename}" in output
    assert "no upstream index has a project named 'no-such-lib'" in output
    assert "no file of warm-lib matches warm-lib>5" in output
    assert "2 of 3 requirements not warmed" in output


def test_warm_refuses_denied_names_and_bad_lines(cache: Cache) -> None:
    denied = cache.requirements("warm-lib\n")
    code, output = cache.run("warm", "-r", denied, WHEELYARD_UPSTREAM_DENY="warm-*")
    assert code != 0
    assert "denied by WHEELYARD_UPSTREAM_DENY" in output
    assert cache.rows() == {}
    code, output = cache.run("warm", "-r", cache.requirements("warm-lib >>> 1\n"))
    assert code != 0
    assert "line 1" in output


def test_prune_evicts_the_least_recently_used_upstream_files_and_never_local_ones(
    cache: Cache,
) -> None:
    code, output = cache.run("warm", "-r", cache.requirements("warm-lib==1.0\nwarm-lib==3.0\n"))
    assert code == 0, output
    rows = cache.rows()
    # Last used: the 1.0 sdist long ago, the 1.0 wheel a while ago, the rest just now.
    long_ago = dt.datetime(2025, 1, 1)
    a_while_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=3)
    sdist_1, wheel_1 = WARM_1[1].filename, WARM_1[0].filename
    for filename, used in ((sdist_1, long_ago), (wheel_1, a_while_ago)):
        cache.execute(
            sa.update(UpstreamFile)
            .where(UpstreamFile.filename == filename)
            .values(last_used_date=used)
        )
    # A local release file of the very same bytes and name shares the sdist's blob.
    engine = create_engine(cache.database_url)
    try:
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            release = make.release(make.package("local-lib", versions=()), "1.0", with_file=False)
            local = make.stored_file(release, WARM_1[1], cache.storage)
            local_path = local.storage_path
            db.execute(
                sa.update(ReleaseFile)
                .where(ReleaseFile.id == local.id)
                .values(storage_path=rows[sdist_1].storage_path)
            )
    finally:
        engine.dispose()
    total = sum(row.size for row in rows.values())
    keep = total - rows[sdist_1].size - 1  # one byte too many with only the sdist gone

    code, output = cache.run("prune", "--max-size", str(keep), "--dry-run")
    assert code == 0, output
    assert f"would remove {sdist_1}" in output
    assert f"would remove {wheel_1}" in output
    assert "2 files" in output
    assert set(cache.rows()) == set(rows)

    code, output = cache.run("prune", "--max-size", str(keep))
    assert code == 0, output
    left = cache.rows()
    assert set(left) == set(rows) - {sdist_1, wheel_1}
    assert not cache.storage.exists(rows[wheel_1].storage_path)
    # The blob a local release file refers to stays.
    assert cache.storage.exists(rows[sdist_1].storage_path)
    assert local_path is not None
    assert sum(row.size for row in left.values()) <= keep

    code, output = cache.run("prune", "--unused-for", "0")
    assert code == 0, output
    assert cache.rows() == {}
    # The pages stay: a later download fetches the file again.
    engine = create_engine(cache.database_url)
    try:
        with transaction(session_factory(engine), writes=False) as db:
            assert db.get(UpstreamPage, "warm-lib") is not None
    finally:
        engine.dispose()


def test_prune_needs_a_limit_and_a_readable_size(cache: Cache) -> None:
    code, output = cache.run("prune")
    assert code == 2
    assert "--max-size, --unused-for or both" in output
    code, output = cache.run("prune", "--max-size", "lots")
    assert code == 2
    assert "not a size" in output
    code, output = cache.run("prune", "--max-size", "2G")
    assert code == 0, output
    assert "0 files" in output
