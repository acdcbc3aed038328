"""File downloads and their PEP 658 metadata: headers, conditional requests, recording."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from pypi_simple import ProjectPage
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from tests.helpers.stored_files import StoredFile
from wheelyard.app import create_app
from wheelyard.config import Settings
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.projects.release_files import metadata_path
from wheelyard.storage.base import FileStorage

USER_AGENT = 'pip/26.0 {"installer":{"name":"pip"}}'


@pytest.fixture
def files(make: Factory, storage: FileStorage, db: Session) -> dict[str, StoredFile]:
    package = make.package("file-server", versions=())
    release = make.release(package, "1.0", with_file=False)
    project = Project(name="file-server", version="1.0")
    stored = {}
    for kind, dist in (("wheel", wheel(project)), ("sdist", sdist(project))):
        stored[kind] = StoredFile(make.stored_file(release, dist, storage), dist)
    db.commit()
    return stored


def downloads(db: Session) -> list[Download]:
    return list(db.scalars(sa.select(Download).order_by(Download.id)))


def test_wheel_is_served_with_cache_headers(
    client: TestClient, files: dict[str, StoredFile]
) -> None:
    wheel_file = files["wheel"]
    response = client.get(wheel_file.url)

    assert response.status_code == 200
    assert response.content == wheel_file.dist.content
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-length"] == str(len(wheel_file.dist.content))
    assert response.headers["etag"] == f'"{wheel_file.file.sha256_digest}"'
    assert response.headers["cache-control"] == "max-age=31536000, immutable"


def test_sdist_is_gzip_not_an_encoded_tarball(
    client: TestClient, files: dict[str, StoredFile]
) -> None:
    response = client.get(files["sdist"].url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers
    assert response.content == files["sdist"].dist.content


def test_links_of_the_simple_page_download_the_exact_files(
    client: TestClient, files: dict[str, StoredFile]
) -> None:
    base = "http://testserver/simple/file-server/"
    page = ProjectPage.from_html("file-server", client.get("/simple/file-server/").text, base)
    by_name = {stored.dist.filename: stored.dist for stored in files.values()}
    assert {package.filename for package in page.packages} == set(by_name)
    for package in page.packages:
        response = client.get(package.url)
        assert response.status_code == 200
        assert response.content == by_name[package.filename].content
        assert hashlib.sha256(response.content).hexdigest() == package.digests["sha256"]


def test_a_download_becomes_one_row_after_flush(
    client: TestClient, app: Starlette, files: dict[str, StoredFile], db: Session
) -> None:
    wheel_file = files["wheel"].file
    response = client.get(files["wheel"].url, headers={"User-Agent": USER_AGENT})
    assert response.status_code == 200
    assert downloads(db) == []  # nothing written on the request path

    assert app.state.downloads.flush() == 1

    [row] = downloads(db)
    assert (row.package_id, row.release_id, row.file_id) == (
        "file-server",
        wheel_file.release_id,
        wheel_file.id,
    )
    assert row.user_agent == USER_AGENT
    assert row.ip_address == "testclient"
    assert row.created_date is not None


def test_shutdown_writes_queued_downloads(
    app: Starlette, files: dict[str, StoredFile], db: Session
) -> None:
    app.state.downloads.interval = 3600
    with TestClient(app) as client:
        client.get(files["wheel"].url)
        client.get(files["sdist"].url)
        assert app.state.downloads.pending == 2

    assert [row.file_id for row in downloads(db)] == [
        files["wheel"].file.id,
        files["sdist"].file.id,
    ]


def test_recording_can_be_turned_off(
    settings: Settings, sessions: sessionmaker[Session], files: dict[str, StoredFile]
) -> None:
    app = create_app(dataclasses.replace(settings, record_downloads=False))
    app.state.sessions = sessions
    with TestClient(app) as client:
        assert client.get(files["wheel"].url).status_code == 200
        assert app.state.downloads.pending == 0


def test_head_sends_headers_and_records_nothing(
    client: TestClient, app: Starlette, files: dict[str, StoredFile]
) -> None:
    response = client.head(files["wheel"].url)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(files["wheel"].dist.content))
    assert response.headers["etag"] == f'"{files["wheel"].file.sha256_digest}"'
    assert app.state.downloads.pending == 0


def test_if_none_match_answers_304_and_records_nothing(
    client: TestClient, app: Starlette, files: dict[str, StoredFile]
) -> None:
    etag = f'"{files["wheel"].file.sha256_digest}"'
    response = client.get(files["wheel"].url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert app.state.downloads.pending == 0


def test_range_requests_are_partial_and_not_downloads(
    client: TestClient, app: Starlette, files: dict[str, StoredFile]
) -> None:
    response = client.get(files["wheel"].url, headers={"Range": "bytes=0-9"})

    assert response.status_code == 206
    assert response.content == files["wheel"].dist.content[:10]
    assert app.state.downloads.pending == 0


def test_metadata_is_served_beside_the_wheel(
    client: TestClient, files: dict[str, StoredFile]
) -> None:
    wheel_file = files["wheel"]
    response = client.get(wheel_file.url + ".metadata")

    assert response.status_code == 200
    assert response.content == wheel_file.dist.metadata.encode()
    assert hashlib.sha256(response.content).hexdigest() == wheel_file.file.metadata_sha256
    assert response.headers["etag"] == f'"{wheel_file.file.metadata_sha256}"'
    assert response.headers["cache-control"] == "max-age=31536000, immutable"


def test_missing_metadata_blob_is_read_from_the_wheel_and_kept(
    client: TestClient, files: dict[str, StoredFile], storage: FileStorage
) -> None:
    wheel_file = files["wheel"]
    path = metadata_path(wheel_file.file)
    assert path is not None
    storage.delete(path)

    response = client.get(wheel_file.url + ".metadata")

    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == wheel_file.file.metadata_sha256
    assert storage.exists(path)


def test_sdists_have_no_metadata_file(client: TestClient, files: dict[str, StoredFile]) -> None:
    assert client.get(files["sdist"].url + ".metadata").status_code == 404


def test_metadata_fetches_are_not_downloads(
    client: TestClient, app: Starlette, files: dict[str, StoredFile]
) -> None:
    client.get(files["wheel"].url + ".metadata")
    assert app.state.downloads.pending == 0


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url.replace("/packages/", "/packages/00/", 1),  # another directory
        lambda url: url[: url.rindex("/")] + "/file_server-9.9-py3-none-any.whl",  # unknown
        lambda url: url.rsplit("/", 1)[0] + "/../../../../etc/passwd",
        lambda url: url.rsplit("/", 4)[0] + "/" + url.rsplit("/", 1)[1],  # the bare filename
        lambda url: url + "x",
        lambda url: "/packages/",
    ],
)
def test_anything_but_the_exact_path_is_404(
    client: TestClient, files: dict[str, StoredFile], mangle: Callable[[str], str]
) -> None:
    response = client.get(mangle(files["wheel"].url))
    assert response.status_code == 404


def test_files_only_known_upstream_are_not_served(
    client: TestClient, make: Factory, db: Session
) -> None:
    package = make.package("upstream-only", versions=())
    release = make.release(package, "1.0", with_file=False)
    digest = "ab" * 32
    db.add(
        ReleaseFile(
            release=release,
            filename="upstream_only-1.0.tar.gz",
            packagetype="sdist",
            size=10,
            sha256_digest="c" * 64,
            blake2_256_digest=digest,
            url="https://files.example.org/upstream_only-1.0.tar.gz",
        )
    )
    db.flush()
    url = f"/packages/ab/ab/{digest[4:]}/upstream_only-1.0.tar.gz"
    assert client.get(url).status_code == 404


def test_a_blob_missing_from_storage_is_404_not_500(
    client: TestClient, files: dict[str, StoredFile], storage: FileStorage
) -> None:
    assert files["sdist"].file.storage_path is not None
    storage.delete(files["sdist"].file.storage_path)
    assert client.get(files["sdist"].url).status_code == 404


def test_local_versions_with_a_plus_are_served(
    client: TestClient, make: Factory, storage: FileStorage, db: Session
) -> None:
    package = make.package("plus-demo", versions=())
    release = make.release(package, "1.0+cpu", with_file=False)
    built = wheel(Project("plus-demo", "1.0+cpu"))
    make.stored_file(release, built, storage)
    db.commit()

    base = "http://testserver/simple/plus-demo/"
    page = ProjectPage.from_html("plus-demo", client.get("/simple/plus-demo/").text, base)
    [package_link] = page.packages
    assert package_link.filename == "plus_demo-1.0+cpu-py3-none-any.whl"
    assert client.get(package_link.url).content == built.content
    assert client.get(package_link.url + ".metadata").content == built.metadata.encode()
