"""Cached simple pages answered before the session and router layers, exactly as after them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from wheelyard.api import simple
from wheelyard.data.package import Package
from wheelyard.services import journal

JSON = "application/vnd.pypi.simple.v1+json"
# Headers that legitimately differ between two answers (none do here, but a date might).
UNSTABLE = {"date", "server"}


@pytest.fixture
def project(make: Factory, db: Session) -> str:
    package = make.package("fast-lane", versions=("1.0",))
    db.commit()
    return package.id


def answer(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = client.get(path, headers=headers)
    kept = {k: v for k, v in response.headers.items() if k not in UNSTABLE}
    return response.status_code, kept, response.content


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths that reached the ordinary simple-page handlers."""
    seen: list[str] = []
    original = simple.cached_page

    async def counting(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(request.url.path)
        return await original(request, *args, **kwargs)

    monkeypatch.setattr(simple, "cached_page", counting)
    return seen


@pytest.mark.parametrize("accept", ["", "text/html", JSON, "*/*"])
def test_a_cached_page_is_the_same_answer_without_the_router(
    client: TestClient, project: str, routed: list[str], accept: str
) -> None:
    path = "/simple/fast-lane/"
    headers = {"Accept": accept} if accept else {}
    first = answer(client, path, **headers)  # rendered by the handler, then cached
    second = answer(client, path, **headers)  # from the cache, before the router
    assert routed == [path]
    assert first == second
    status, sent, _ = second
    assert status == 200
    assert "set-cookie" not in sent
    assert sent["content-security-policy"].startswith("default-src 'self'")
    assert sent["x-content-type-options"] == "nosniff"
    assert sent["vary"] == "Accept"


@pytest.mark.parametrize("accept", ["", JSON])
def test_the_project_list_takes_the_ordinary_path_and_answers_alike(
    client: TestClient, project: str, routed: list[str], accept: str
) -> None:
    # It is streamed from its chunks by its handler (services/simple_listing.py).
    headers = {"Accept": accept} if accept else {}
    first = answer(client, "/simple/", **headers)
    second = answer(client, "/simple/", **headers)
    assert first == second
    assert routed == []
    status, sent, body = second
    assert status == 200
    assert int(sent["content-length"]) == len(body)
    assert "set-cookie" not in sent
    assert sent["x-content-type-options"] == "nosniff"
    assert b"fast-lane" in body


@pytest.mark.parametrize("path", ["/simple/fast-lane/", "/pypi/fast-lane/json"])
def test_a_conditional_request_is_answered_304_alike_on_both_paths(
    client: TestClient, project: str, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    etag = client.get(path).headers["etag"]
    fast = answer(client, path, **{"If-None-Match": etag})
    # The same request with the fast path's cache out of reach: the ordinary handler's 304.
    monkeypatch.setattr(client.app.state.pages, "must_read_journal_first", lambda: True)  # type: ignore[attr-defined]
    ordinary = answer(client, path, **{"If-None-Match": etag})
    assert fast == ordinary
    status, sent, body = fast
    assert (status, body, sent["etag"]) == (304, b"", etag)
    assert sent["x-frame-options"] == "DENY"


def test_other_spellings_and_queries_take_the_ordinary_path(
    client: TestClient, project: str, routed: list[str]
) -> None:
    client.get("/simple/fast-lane/")
    moved = client.get("/simple/Fast_Lane/", follow_redirects=False)
    assert moved.status_code == 301
    assert client.get("/simple/fast-lane/?format=" + JSON).headers["content-type"] == JSON
    assert client.get("/simple/fast-lane/", headers={"Accept": "image/png"}).status_code == 406
    # The first render and the ?format= one reached the cache through the handler; the
    # redirect and the 406 were answered by the handler before it looks at the cache.
    assert routed == ["/simple/fast-lane/", "/simple/fast-lane/"]


def test_a_change_is_never_served_stale(
    client: TestClient, project: str, make: Factory, db: Session
) -> None:
    before = client.get("/simple/fast-lane/").headers["x-pypi-last-serial"]
    target = db.get(Package, project)
    assert target is not None
    journal.record(db, target, journal.Action.NEW_RELEASE, version="2.0")
    db.commit()
    after = client.get("/simple/fast-lane/").headers["x-pypi-last-serial"]
    assert int(after) > int(before)
