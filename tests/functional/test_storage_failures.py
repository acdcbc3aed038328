"""A full disk and a failing object store: an upload answers 507 or 503 with the reason and
leaves no row, no blob and no temporary file; a download the store cannot serve is a 503."""

from __future__ import annotations

import dataclasses
import errno
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    MotoServer,
)
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.api import files as files_api
from wheelyard.api import upload as upload_api
from wheelyard.config import Settings
from wheelyard.data.download import Download
from wheelyard.data.user import User
from wheelyard.services.ops import row_counts
from wheelyard.storage import s3
from wheelyard.storage.base import FileStorage
from wheelyard.storage.local import TEMP_PREFIX
from wheelyard.storage.s3 import S3Storage

ADA = basic_auth("ada@example.com", PASSWORD)
LIB = Project("roomy-lib", "1.0")


def post(client: TestClient, dist_of: Callable[[Project], Dist] = wheel) -> httpx.Response:
    dist = dist_of(LIB)
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    return client.post("/legacy/", data=twine_fields(dist), files=files, headers=ADA)


def nothing_kept(db: Session, storage: FileStorage, before: dict[str, int]) -> None:
    db.expire_all()
    counts = row_counts.row_counts(db)
    counts.pop("audit")
    assert counts == before
    assert list(storage.iter_paths()) == []


def disk_full_after(calls: int) -> Callable[[int], None]:
    """``os.fsync`` that works ``calls`` times, then says the disk is full, as it does when
    the filesystem finds no room for the data it had accepted."""
    real = os.fsync
    left = [calls]

    def fsync(fd: int) -> None:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        left[0] -= 1
        real(fd)

    return fsync


@pytest.fixture
def counts_before(db: Session, ada: User) -> dict[str, int]:
    db.commit()
    counts = row_counts.row_counts(db)
    counts.pop("audit")
    return counts


@pytest.mark.parametrize(
    ("dist_of", "good_fsyncs"),
    [(wheel, 0), (sdist, 0), (wheel, 1)],
    ids=["wheel", "sdist", "wheel-metadata"],
)
def test_a_full_disk_is_a_507_that_keeps_nothing(
    client: TestClient,
    db: Session,
    storage: FileStorage,
    settings: Settings,
    counts_before: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    dist_of: Callable[[Project], Dist],
    good_fsyncs: int,
) -> None:
    # good_fsyncs=1: the wheel itself is stored, then its METADATA finds the disk full.
    monkeypatch.setattr(os, "fsync", disk_full_after(good_fsyncs))
    response = post(client, dist_of)
    monkeypatch.undo()

    assert response.status_code == 507, response.text
    assert response.text == upload_api.STORAGE_FULL + "\n"
    nothing_kept(db, storage, counts_before)
    assert list(Path(settings.storage_path).rglob(f"{TEMP_PREFIX}*")) == []

    # Once there is room again the same upload goes through.
    assert post(client, dist_of).status_code == 200


# --- object storage that fails ----------------------------------------------------------------


@pytest.fixture
def aws_environment(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)


@pytest.fixture
def s3_client(
    settings: Settings, sessions: sessionmaker[Session], s3_bucket: str, aws_environment: None
) -> Iterator[TestClient]:
    app = app_for(dataclasses.replace(settings, storage_url=f"s3://{s3_bucket}/files"), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable(storage: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """The object store goes away: its endpoint now refuses connections."""
    monkeypatch.setattr(
        storage, "client", s3.s3_client(endpoint_url=f"http://127.0.0.1:{closed_port()}")
    )


def test_an_object_store_that_fails_mid_upload_is_a_503_that_keeps_nothing(
    s3_client: TestClient,
    db: Session,
    counts_before: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = s3_client.app.state.storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3Storage)
    working = storage.client
    unreachable(storage, monkeypatch)
    response = post(s3_client)
    assert response.status_code == 503, response.text
    assert response.text == upload_api.STORAGE_FAILED + "\n"
    monkeypatch.setattr(storage, "client", working)
    nothing_kept(db, storage, counts_before)


def test_an_object_store_that_fails_on_download_is_a_503_not_counted(
    s3_client: TestClient, make: Factory, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = s3_client.app.state.storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3Storage)
    release = make.release(make.package("cloudy", versions=()), "1.0", with_file=False)
    stored = make.stored_file(release, wheel(Project("cloudy", "1.0")), storage)
    db.commit()
    unreachable(storage, monkeypatch)

    response = s3_client.get(f"/packages/{stored.storage_path}")
    assert response.status_code == 503
    assert response.text == files_api.STORAGE_UNAVAILABLE
    assert response.headers["retry-after"] == files_api.RETRY_AFTER
    s3_client.app.state.downloads.flush()  # type: ignore[attr-defined]
    assert db.query(Download).count() == 0
