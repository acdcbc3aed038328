"""``wheelyard storage gc`` as an operator runs it, on local file storage."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import scratch_database
from tests.helpers.passwords import cheap_passwords
from wheelyard.cli import main
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.services.ops import schema
from wheelyard.storage.base import content_path
from wheelyard.storage.local import TEMP_PREFIX, LocalStorage

PASSWORDS = cheap_passwords()


@dataclass(frozen=True)
class Index:
    database_url: str
    storage: LocalStorage
    referenced: list[str]  # what rows refer to: a wheel, its .metadata, an sdist
    orphan: str  # what a crashed upload left
    leftover: Path  # the temporary file of a write killed half-way

    def gc(self, *args: str) -> tuple[int, str]:
        environment = {
            "WHEELYARD_DATABASE_URL": self.database_url,
            "WHEELYARD_STORAGE_PATH": str(self.storage.root),
            "WHEELYARD_VAR_DIR": str(self.storage.root.parent),
        }
        result = CliRunner().invoke(main, ["storage", "gc", *args], env=environment)
        return result.exit_code, result.output


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    storage = LocalStorage(tmp_path / "files")
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine)
            with transaction(session_factory(engine)) as db:
                make = Factory(db, PASSWORDS)
                release = make.release(make.package("kept", versions=()), "1.0", with_file=False)
                files = [
                    make.stored_file(release, dist, storage)
                    for dist in (wheel(Project("kept", "1.0")), sdist(Project("kept", "1.0")))
                ]
        finally:
            engine.dispose()
        wheel_path, sdist_path = (file.storage_path or "" for file in files)
        content = b"a crashed upload's bytes"
        orphan = content_path(
            hashlib.blake2b(content, digest_size=32).hexdigest(), "lost-1.0.tar.gz"
        )
        storage.put(orphan, io.BytesIO(content))
        leftover = storage.root / orphan.rsplit("/", 1)[0] / f"{TEMP_PREFIX}killed"
        leftover.write_bytes(b"half")
        referenced = [wheel_path, wheel_path + ".metadata", sdist_path]
        yield Index(url, storage, referenced, orphan, leftover)


def test_a_dry_run_lists_the_orphan_and_removes_nothing(index: Index) -> None:
    code, output = index.gc("--dry-run", "--min-age", "0")
    assert code == 0, output
    assert "3 blobs referenced, 0 unreferenced but younger than 0s, 1 orphans" in output
    assert f"would remove {index.orphan}" in output
    assert sorted(index.storage.iter_paths()) == sorted([*index.referenced, index.orphan])
    assert index.leftover.exists()


def test_young_orphans_are_spared_by_default(index: Index) -> None:
    code, output = index.gc()
    assert code == 0, output
    assert "1 unreferenced but younger than 3600s, 0 orphans" in output
    assert "removed 0 orphans and 0 pieces of interrupted writes" in output
    assert index.storage.exists(index.orphan)
    assert index.leftover.exists()


def test_gc_removes_orphans_and_leftovers_and_nothing_else(index: Index) -> None:
    code, output = index.gc("--min-age", "0")
    assert code == 0, output
    assert f"removed {index.orphan}" in output
    assert "removed 1 orphans and 1 pieces of interrupted writes" in output
    assert sorted(index.storage.iter_paths()) == sorted(index.referenced)
    assert not index.leftover.exists()


def test_a_database_without_the_schema_is_refused(index: Index, tmp_path: Path) -> None:
    wrong = replace(index, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    code, output = wrong.gc("--min-age", "0")
    assert code == 1
    assert "holds no wheelyard schema" in output
    assert index.storage.exists(index.orphan)


def test_a_negative_min_age_is_refused(index: Index) -> None:
    code, output = index.gc("--min-age", "-5")
    assert code == 2
    assert "--min-age" in output
