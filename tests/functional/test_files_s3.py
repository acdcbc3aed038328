"""Downloads from object storage: streamed through the server, or redirected to a presigned URL."""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    MotoServer,
)
from wheelyard.config import Settings
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.storage.base import FileStorage
from wheelyard.storage.s3 import S3Storage

USER_AGENT = 'pip/26.0 {"installer":{"name":"pip"}}'


@pytest.fixture
def aws_environment(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend reads the standard AWS settings, as it does in production.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)


def s3_client_for(
    settings: Settings, sessions: sessionmaker[Session], presign_seconds: int
) -> Iterator[TestClient]:
    app = app_for(
        dataclasses.replace(settings, presigned_download_seconds=presign_seconds), sessions
    )
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def s3_settings(settings: Settings, s3_bucket: str, aws_environment: None) -> Settings:
    return dataclasses.replace(settings, storage_url=f"s3://{s3_bucket}/files")


@pytest.fixture(params=[0, 300], ids=["streamed", "presigned"])
def s3_client(
    request: pytest.FixtureRequest, s3_settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    yield from s3_client_for(s3_settings, sessions, request.param)


def test_a_file_in_object_storage_is_downloaded_and_counted(
    s3_client: TestClient, make: Factory, db: Session
) -> None:
    storage: FileStorage = s3_client.app.state.storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3Storage)
    release = make.release(make.package("cloudy", versions=()), "1.0", with_file=False)
    dist = wheel(Project(name="cloudy", version="1.0"))
    stored: ReleaseFile = make.stored_file(release, dist, storage)
    db.commit()
    url = f"/packages/{stored.storage_path}"

    response = s3_client.get(url, headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    presigning = s3_client.app.state.settings.presigned_download_seconds > 0  # type: ignore[attr-defined]
    if presigning:
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(storage.client.meta.endpoint_url)
        with urllib.request.urlopen(location, timeout=10) as fetched:
            assert fetched.read() == dist.content
    else:
        assert response.status_code == 200
        assert response.content == dist.content
        assert response.headers["content-length"] == str(len(dist.content))
        assert response.headers["etag"] == f'"{stored.sha256_digest}"'
    s3_client.app.state.downloads.flush()  # type: ignore[attr-defined]
    (download,) = db.scalars(sa.select(Download))
    assert download.file_id == stored.id
    assert download.user_agent == USER_AGENT


def test_head_is_never_redirected_nor_counted(
    s3_settings: Settings, sessions: sessionmaker[Session], make: Factory, db: Session
) -> None:
    for client in s3_client_for(s3_settings, sessions, presign_seconds=300):
        storage: FileStorage = client.app.state.storage  # type: ignore[attr-defined]
        release = make.release(make.package("cloudy", versions=()), "1.0", with_file=False)
        stored = make.stored_file(release, wheel(Project(name="cloudy", version="1.0")), storage)
        db.commit()
        response = client.head(f"/packages/{stored.storage_path}", follow_redirects=False)
        assert response.status_code == 200
        assert response.headers["content-length"] == str(stored.size)
        client.app.state.downloads.flush()  # type: ignore[attr-defined]
    assert db.scalar(sa.select(sa.func.count()).select_from(Download)) == 0
