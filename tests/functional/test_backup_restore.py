"""``wheelyard backup`` while twine uploads to a live server, then ``wheelyard restore`` into a
fresh database and storage, compared row by row and blob by blob."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.database_rows import blob_digests, every_row, index_totals
from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import LiveServer, run_server, scratch_database, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from wheelyard.data.release_file import ReleaseFile

pytestmark = pytest.mark.clients

BUSY = Project("busy-lib", "1.0")
UPLOADS = 8


def cli(env: Mapping[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wheelyard", *map(str, args)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def twine(server: LiveServer, *files: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--repository-url",
            server.url + "/legacy/",
            "-u",
            "ada@example.com",
            "-p",
            PASSWORD,
            "--disable-progress-bar",
            *map(str, files),
        ],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with run_server(tmp_path / "live", postgres_url()) as server:
        wheelyard_cli(
            server, "user", "create", "--name", "Ada", "--email", "ada@example.com",
            "--password", PASSWORD,
        )  # fmt: skip
        yield server


def snapshot_url(backup: Path) -> str:
    return f"sqlite:///{backup / 'database.sqlite3'}"


def listed_blobs(backup: Path) -> dict[str, str]:
    lines = (backup / "blobs.jsonl").read_text().splitlines()
    return {blob["path"]: blob["sha256"] for blob in map(json.loads, lines)}


@contextmanager
def restored_into(
    server: LiveServer, backup: Path, where: Path
) -> Iterator[tuple[str, Path, subprocess.CompletedProcess[str]]]:
    with scratch_database(postgres_url(), where) as url:
        storage = where / "files"
        env = {**server.env, "WHEELYARD_DATABASE_URL": url, "WHEELYARD_STORAGE_PATH": str(storage)}
        yield url, storage, cli(env, "restore", backup)


def files_named(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, str]:
    """storage path -> sha256 of every release file the rows hold."""
    names = [column.name for column in ReleaseFile.__table__.columns]
    path, digest = names.index("storage_path"), names.index("sha256_digest")
    return {str(row[path]): str(row[digest]) for row in rows["release_files"]}


def test_backup_while_uploads_run_then_restore(server: LiveServer, tmp_path: Path) -> None:
    dists = tmp_path / "dists"
    files = [wheel(replace(BUSY, version=f"1.{n}")).write_to(dists) for n in range(UPLOADS)]
    twine(server, files[0])

    def upload_the_rest() -> None:
        for file in files[1:]:
            twine(server, file)

    uploading = threading.Thread(target=upload_the_rest)
    uploading.start()
    try:
        taken = cli(server.env, "backup", tmp_path / "during")
    finally:
        uploading.join()
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert "copied" in taken.stdout

    # What the snapshot holds is whole: every file it names is among the blobs, intact.
    during = tmp_path / "during"
    snapshot = every_row(snapshot_url(during))
    named = files_named(snapshot)
    assert 1 <= len(named) <= UPLOADS
    assert {path: listed_blobs(during)[path] for path in named} == named
    assert blob_digests(during / "blobs") == listed_blobs(during)
    manifest = json.loads((during / "manifest.json").read_text())
    assert manifest["rows"] == {table: len(rows) for table, rows in snapshot.items()}

    with restored_into(server, during, tmp_path / "restore-during") as (url, storage, result):
        assert result.returncode == 0, result.stdout + result.stderr
        assert every_row(url) == snapshot
        assert blob_digests(storage) == listed_blobs(during)
        index_totals(url)  # kept totals equal the rows, not counted twice

    # Once the uploads are done, a backup restores to exactly the live index.
    after = tmp_path / "after"
    assert cli(server.env, "backup", after).returncode == 0
    live_rows = every_row(server.database_url)
    assert len(files_named(live_rows)) == UPLOADS
    with restored_into(server, after, tmp_path / "restore-after") as (url, storage, result):
        assert result.returncode == 0, result.stdout + result.stderr
        assert every_row(url) == live_rows
        live_blobs = blob_digests(server.var_dir / "files")
        restored = blob_digests(storage)
        assert restored == {path: live_blobs[path] for path in restored}
        assert {path: restored[path] for path in files_named(live_rows)} == files_named(live_rows)
        assert index_totals(url) == index_totals(server.database_url)


def test_restore_refuses_what_is_not_empty(server: LiveServer, tmp_path: Path) -> None:
    twine(server, wheel(BUSY).write_to(tmp_path / "dists"))
    backup = tmp_path / "backup"
    assert cli(server.env, "backup", backup).returncode == 0

    # Into the live index itself: its storage has blobs.
    refused = cli(server.env, "restore", backup)
    assert refused.returncode == 1
    assert "the storage is not empty" in refused.stderr

    # Into empty storage but the live database: it has rows, and says which.
    env = {**server.env, "WHEELYARD_STORAGE_PATH": str(tmp_path / "empty-files")}
    refused = cli(env, "restore", backup)
    assert refused.returncode == 1
    assert "the target database is not empty: " in refused.stderr
    assert "packages has 1 rows" in refused.stderr
    assert not (tmp_path / "empty-files").exists() or blob_digests(tmp_path / "empty-files") == {}

    # A backup never goes into a directory already holding something.
    again = cli(server.env, "backup", backup)
    assert again.returncode == 1
    assert "is not empty: back up into a new directory" in again.stderr


def test_a_damaged_backup_is_refused(server: LiveServer, tmp_path: Path) -> None:
    twine(server, wheel(BUSY).write_to(tmp_path / "dists"))
    backup = tmp_path / "backup"
    assert cli(server.env, "backup", backup).returncode == 0
    (blob,) = list((backup / "blobs").rglob("*.whl"))
    blob.write_bytes(blob.read_bytes() + b"tampered")
    with restored_into(server, backup, tmp_path / "restore") as (url, storage, result):
        assert result.returncode == 1
        assert "is damaged: its sha256 differs" in result.stderr
        assert every_row(url)["packages"] == []
        assert not storage.exists() or blob_digests(storage) == {}
