"""Upstream files: fetched on first download, checked against the page's sha256, kept in our
storage and served from it afterwards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, wheel
from tests.helpers.upstreams import static_index, write_static_tree
from wheelyard.config import Settings
from wheelyard.data.upstream_file import UpstreamFile

GOOD = wheel(Project("static-good", "1.0"))
BAD = wheel(Project("static-bad", "1.0"))
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Static:
    url: str
    log: Path

    def gets(self, filename: str) -> int:
        return self.log.read_text().count(f"GET /files/{filename} ")


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Static]:
    root = tmp_path_factory.mktemp("static-files")
    write_static_tree(root, "static-good", [GOOD])
    write_static_tree(root, "static-bad", [BAD])
    # The page of static-bad promises other bytes than the file holds.
    (root / "files" / BAD.filename).write_bytes(BAD.content + b"tampered")
    log = root / "requests.log"
    with static_index(root, log) as url:
        yield Static(url, log)


@pytest.fixture
def upstream_client(
    settings: Settings, sessions: sessionmaker[Session], static: Static
) -> Iterator[TestClient]:
    configured = dataclasses.replace(settings, upstream_urls=(static.url,))
    with TestClient(app_for(configured, sessions), base_url="http://testserver") as client:
        yield client


def file_url(client: TestClient, project: str) -> str:
    page = client.get(f"/simple/{project}/", headers={"Accept": SIMPLE_JSON})
    assert page.status_code == 200, page.text
    [file] = page.json()["files"]
    url: str = file["url"]
    return "/" + url.removeprefix("../../")


def test_the_first_download_fetches_and_keeps_the_file_later_ones_read_storage(
    upstream_client: TestClient, static: Static, db: Session
) -> None:
    url = file_url(upstream_client, "static-good")
    before = static.gets(GOOD.filename)
    first = upstream_client.get(url)
    assert first.status_code == 200, first.text
    assert first.content == GOOD.content
    assert static.gets(GOOD.filename) == before + 1
    again = upstream_client.get(url)
    assert again.content == GOOD.content
    assert again.headers["ETag"] == f'"{GOOD.sha256}"'
    assert static.gets(GOOD.filename) == before + 1
    row = db.scalars(sa.select(UpstreamFile).where(UpstreamFile.filename == GOOD.filename)).one()
    assert (row.project_id, row.sha256_digest, row.size) == (
        "static-good",
        GOOD.sha256,
        len(GOOD.content),
    )
    storage = upstream_client.app.state.storage
    with storage.open(row.storage_path) as blob:
        assert hashlib.sha256(blob.read()).hexdigest() == GOOD.sha256


def test_a_hash_mismatch_is_502_and_nothing_is_kept(
    upstream_client: TestClient, db: Session
) -> None:
    url = file_url(upstream_client, "static-bad")
    response = upstream_client.get(url)
    assert response.status_code == 502
    assert "sha256" in response.text
    assert BAD.sha256 in response.text
    assert db.scalars(sa.select(UpstreamFile)).all() == []
    storage = upstream_client.app.state.storage
    assert [path for path in storage.iter_paths() if BAD.filename in path] == []


def test_a_file_the_page_does_not_list_is_404(upstream_client: TestClient) -> None:
    file_url(upstream_client, "static-good")
    assert upstream_client.get("/packages/upstream/static-good/other-1.0.tar.gz").status_code == 404
    assert upstream_client.get("/packages/upstream/static-good/").status_code == 404
    # Only a normalized name reaches the upstream's URL.
    for odd in ("Static-Good", "..", "%2e%2e"):
        assert upstream_client.get(f"/packages/upstream/{odd}/{GOOD.filename}").status_code == 404
    # Under another project's name the file is not listed either.
    missing = upstream_client.get(f"/packages/upstream/static-bad/{GOOD.filename}")
    assert missing.status_code == 404


def test_downloads_write_the_files_last_use_at_most_once_per_interval_per_worker(
    settings: Settings, sessions: sessionmaker[Session], static: Static, db: Session
) -> None:
    configured = dataclasses.replace(settings, upstream_urls=(static.url,))
    query = sa.select(UpstreamFile).where(UpstreamFile.filename == GOOD.filename)
    long_ago = dt.datetime(2020, 1, 1)
    with TestClient(app_for(configured, sessions), base_url="http://testserver") as client:
        url = file_url(client, "static-good")
        assert client.get(url).status_code == 200
        fetched = db.scalars(query).one().last_used_date
        assert fetched is not None
        db.execute(sa.update(UpstreamFile).values(last_used_date=long_ago))
        db.expire_all()
        # Within the interval this worker writes nothing more.
        assert client.get(url).status_code == 200
        assert db.scalars(query).one().last_used_date == long_ago
    # Another worker (here: a new app) writes its first serving of the file.
    with TestClient(app_for(configured, sessions), base_url="http://testserver") as client:
        assert client.get(url).status_code == 200
    db.expire_all()
    used = db.scalars(query).one().last_used_date
    assert used is not None
    assert used > long_ago
