"""Downloads and JSON documents answered from the worker's cache, before the session layers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.stored_files import StoredFile
from wheelyard.api import json_api
from wheelyard.data.download import Download
from wheelyard.services import journal
from wheelyard.services.audit import Origin
from wheelyard.services.index import served_files
from wheelyard.services.projects import admin
from wheelyard.storage.base import FileStorage

UNSTABLE = {"date", "server"}


@pytest.fixture
def stored(make: Factory, storage: FileStorage, db: Session) -> StoredFile:
    owner = make.user()
    package = make.package("cached-files", versions=(), owner=owner)
    release = make.release(package, "1.0", with_file=False)
    dist = wheel(Project(name="cached-files", version="1.0"))
    found = StoredFile(make.stored_file(release, dist, storage), dist)
    db.commit()
    return found


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The filenames downloads looked up in the database."""
    seen: list[str] = []
    original = served_files.find_served

    def counting(db: Session, filename: str) -> served_files.ServedFile | None:
        seen.append(filename)
        return original(db, filename)

    monkeypatch.setattr(served_files, "find_served", counting)
    return seen


def answer(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = client.get(path, headers=headers)
    kept = {k: v for k, v in response.headers.items() if k not in UNSTABLE}
    return response.status_code, kept, response.content


def test_a_known_file_is_served_without_a_query_and_still_counted(
    client: TestClient, app: Starlette, stored: StoredFile, lookups: list[str], db: Session
) -> None:
    first = answer(client, stored.url)
    second = answer(client, stored.url)
    assert lookups == [stored.dist.filename]
    assert first == second
    status, headers, body = second
    assert status == 200
    assert body == stored.dist.content
    assert "set-cookie" not in headers
    assert headers["x-content-type-options"] == "nosniff"
    assert client.get(stored.url, headers={"If-None-Match": headers["etag"]}).status_code == 304
    assert client.head(stored.url).status_code == 200
    assert lookups == [stored.dist.filename]

    assert app.state.downloads.flush() == 2  # the two GETs; not the 304 nor the HEAD
    rows = db.scalars(sa.select(Download.file_id)).all()
    assert rows == [stored.file.id, stored.file.id]


def test_other_paths_to_a_known_file_are_still_404(
    client: TestClient, stored: StoredFile, lookups: list[str]
) -> None:
    assert client.get(stored.url).status_code == 200
    wrong = stored.url.replace("/packages/", "/packages/00/", 1)
    assert client.get(wrong).status_code == 404
    assert client.get(stored.url + "?x=1").status_code == 200


def test_a_removed_file_is_gone_at_once(
    client: TestClient, stored: StoredFile, make: Factory, db: Session
) -> None:
    assert client.get(stored.url).status_code == 200
    package = stored.file.release.package
    owner = package.maintainers[0]
    admin.remove_file(
        db, package, stored.dist.filename, actor=owner, origin=Origin("127.0.0.1", "tests")
    )
    db.commit()
    assert client.get(stored.url).status_code == 404


@pytest.mark.parametrize("allowed_hosts", [("testserver", "mirror.example")])
def test_a_cached_json_document_is_the_same_answer_without_the_router(
    client: TestClient, stored: StoredFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed: list[str] = []
    original = json_api.cached_page

    async def counting(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        routed.append(request.url.path)
        return await original(request, *args, **kwargs)

    monkeypatch.setattr(json_api, "cached_page", counting)
    first = answer(client, "/pypi/cached-files/json")
    second = answer(client, "/pypi/cached-files/json")
    assert routed == ["/pypi/cached-files/json"]
    assert first == second
    status, headers, body = second
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "set-cookie" not in headers
    assert b'"url":"/packages/' in body

    # Another host name is the same document, from the cache (its URLs name no host).
    other = client.get("/pypi/cached-files/json", headers={"Host": "mirror.example"})
    assert other.content == body
    assert routed == ["/pypi/cached-files/json"]

    # With the cache out of the fast path's reach the handler answers, and alike.
    monkeypatch.setattr(client.app.state.pages, "must_read_journal_first", lambda: True)  # type: ignore[attr-defined]
    assert answer(client, "/pypi/cached-files/json") == first
    assert routed == ["/pypi/cached-files/json"] * 2


def test_a_json_document_follows_a_change_at_once(
    client: TestClient, stored: StoredFile, db: Session
) -> None:
    before = client.get("/pypi/cached-files/json").json()
    assert before["releases"]["1.0"][0]["yanked"] is False
    release = stored.file.release
    release.yanked, release.yanked_reason = True, "broken"
    journal.record(db, release.package, journal.Action.YANK, version="1.0")
    db.commit()
    after = client.get("/pypi/cached-files/json").json()
    assert after["releases"]["1.0"][0]["yanked"] is True
