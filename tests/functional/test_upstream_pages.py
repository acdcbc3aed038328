"""Simple pages of upstream projects: fetched from a real index on loopback, kept in the
database, rewritten to point at us, revalidated, and served stale when the upstream is down."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pypi_simple import ProjectPage
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer, run_server
from tests.helpers.upstreams import (
    closed_port_url,
    seed,
    silent_server,
    static_index,
    write_static_tree,
)
from wheelyard.api import simple
from wheelyard.config import Settings
from wheelyard.data.package import Visibility
from wheelyard.data.upstream_page import UpstreamPage
from wheelyard.services import journal

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
DEMO = [wheel(Project("up-demo", "1.0")), sdist(Project("up-demo", "1.0"))]
DEMO_2 = wheel(Project("up-demo", "2.0", requires_python=">=3.8"))
STATIC = [wheel(Project("static-demo", "0.5"))]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("upstream"), postgres_url()) as server:
        seed(server, [*DEMO, DEMO_2])
        yield server


@pytest.fixture(scope="module")
def static_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("static")
    write_static_tree(root, "static-demo", STATIC)
    with static_index(root) as url:
        yield url


def client_for(
    settings: Settings, sessions: sessionmaker[Session], *urls: str, **more: Any
) -> TestClient:
    configured = dataclasses.replace(settings, upstream_urls=urls, **more)
    return TestClient(app_for(configured, sessions), base_url="http://testserver")


def json_page(client: TestClient, name: str) -> dict[str, Any]:
    response = client.get(f"/simple/{name}/", headers={"Accept": SIMPLE_JSON})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def by_name(dists: list[Dist]) -> dict[str, Dist]:
    return {dist.filename: dist for dist in dists}


def test_an_upstream_project_is_served_with_its_files_pointing_here(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer, db: Session
) -> None:
    with client_for(settings, sessions, upstream.url + "/simple/") as client:
        response = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
        assert response.status_code == 200, response.text
        assert response.headers["X-Wheelyard-Upstream"] == "fresh"
        document = response.json()
        theirs = json.loads(
            client.app.state.upstream_http.get(
                upstream.url + "/simple/up-demo/", headers={"Accept": SIMPLE_JSON}
            ).content
        )
        html = client.get("/simple/up-demo/", headers={"Accept": "text/html"})
    assert document["name"] == "up-demo"
    assert document["versions"] == ["1.0", "2.0"]
    dists = by_name([*DEMO, DEMO_2])
    assert sorted(file["filename"] for file in document["files"]) == sorted(dists)
    upstream_files = {file["filename"]: file for file in theirs["files"]}
    for file in document["files"]:
        assert file["url"] == f"../../packages/upstream/up-demo/{file['filename']}"
        assert file["hashes"] == {"sha256": dists[file["filename"]].sha256}
        kept = ("size", "upload-time", "requires-python", "yanked", "core-metadata")
        assert {key: file[key] for key in kept} == {
            key: upstream_files[file["filename"]][key] for key in kept
        }
    assert any(file["core-metadata"] for file in document["files"])
    # The HTML page is the same files, read as pip would read it.
    page = ProjectPage.from_html("up-demo", html.text, "http://testserver/simple/up-demo/")
    assert {p.filename: p.digests["sha256"] for p in page.packages} == {
        name: dist.sha256 for name, dist in dists.items()
    }
    assert {p.url for p in page.packages} == {
        f"http://testserver/packages/upstream/up-demo/{name}" for name in dists
    }
    # Kept in the database, where a restarted server finds it.
    row = db.get(UpstreamPage, "up-demo")
    assert row is not None
    assert row.source == upstream.url + "/simple/"
    assert row.etag


def test_an_html_upstream_is_read_and_upstreams_are_tried_in_order(
    settings: Settings,
    sessions: sessionmaker[Session],
    upstream: LiveServer,
    static_url: str,
) -> None:
    with client_for(settings, sessions, upstream.url + "/simple/", static_url) as client:
        document = json_page(client, "static-demo")
        # The first upstream has up-demo: the second is not asked for it.
        assert {f["filename"] for f in json_page(client, "up-demo")["files"]} == set(
            by_name([*DEMO, DEMO_2])
        )
    [file] = document["files"]
    assert file["filename"] == STATIC[0].filename
    assert file["hashes"] == {"sha256": STATIC[0].sha256}
    assert "upload-time" not in file
    assert document["versions"] == ["0.5"]


def test_unknown_upstream_names_and_blocked_names_are_404(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer
) -> None:
    url = upstream.url + "/simple/"
    with client_for(settings, sessions, url) as client:
        assert client.get("/simple/nowhere-at-all/").status_code == 404
    with client_for(settings, sessions, url, upstream_block=("up-*",)) as client:
        assert client.get("/simple/up-demo/").status_code == 404


def test_no_upstream_configured_is_404(settings: Settings, client: TestClient) -> None:
    assert settings.upstream_urls == ()
    assert client.get("/simple/up-demo/").status_code == 404


def test_a_local_project_hides_the_upstream_one(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer, make: Factory
) -> None:
    make.package("up-demo", versions=("0.1",))
    with client_for(settings, sessions, upstream.url + "/simple/") as client:
        response = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
    assert response.status_code == 200
    assert "X-Wheelyard-Upstream" not in response.headers
    assert response.json()["versions"] == ["0.1"]
    assert not {f["filename"] for f in response.json()["files"]} & set(by_name([*DEMO, DEMO_2]))


def test_a_warm_upstream_page_is_answered_by_the_fast_path_until_a_local_project_takes_the_name(
    settings: Settings,
    sessions: sessionmaker[Session],
    upstream: LiveServer,
    make: Factory,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    routed: list[str] = []
    original = simple.cached_page

    async def counting(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        routed.append(request.url.path)
        return await original(request, *args, **kwargs)

    monkeypatch.setattr(simple, "cached_page", counting)
    with client_for(settings, sessions, upstream.url + "/simple/") as client:
        first = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
        warm = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
        # Served before the router, with the same bytes and the upstream's headers.
        assert routed == ["/simple/up-demo/"]
        assert warm.content == first.content
        assert warm.headers["x-wheelyard-upstream"] == "fresh"
        assert warm.headers["etag"] == first.headers["etag"]

        package = make.package("up-demo", versions=("0.1",))
        journal.record(db, package, journal.Action.CREATE)
        db.commit()
        local = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
    assert "x-wheelyard-upstream" not in local.headers
    assert local.json()["versions"] == ["0.1"]


def test_a_private_local_project_is_404_to_strangers_never_the_upstream_one(
    settings: Settings,
    sessions: sessionmaker[Session],
    upstream: LiveServer,
    make: Factory,
    db: Session,
) -> None:
    make.package("up-demo", versions=("0.1",)).visibility = Visibility.PRIVATE
    db.flush()
    upstream_file = next(iter(by_name([*DEMO, DEMO_2])))
    with client_for(settings, sessions, upstream.url + "/simple/") as client:
        page = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
        document = client.get("/pypi/up-demo/json")
        download = client.get(f"/packages/upstream/up-demo/{upstream_file}")
    assert (page.status_code, document.status_code, download.status_code) == (404, 404, 404)
    assert "X-Wheelyard-Upstream" not in page.headers
    assert db.get(UpstreamPage, "up-demo") is None


def test_after_the_ttl_the_page_is_revalidated_by_etag(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer, db: Session
) -> None:
    with client_for(settings, sessions, upstream.url + "/simple/", upstream_ttl=0) as client:
        first = json_page(client, "up-demo")
        row = db.get(UpstreamPage, "up-demo")
        assert row is not None
        checked, etag = row.checked_date, row.etag
        db.expire_all()
        second = json_page(client, "up-demo")
    row = db.get(UpstreamPage, "up-demo")
    assert row is not None
    assert second == first
    assert row.etag == etag
    assert row.checked_date > checked


def test_upstream_down_serves_the_cached_page_stale_and_fails_what_was_never_cached(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer
) -> None:
    with client_for(settings, sessions, upstream.url + "/simple/") as client:
        cached = json_page(client, "up-demo")
    down = closed_port_url()
    with client_for(settings, sessions, down, upstream_ttl=0) as client:
        response = client.get("/simple/up-demo/", headers={"Accept": SIMPLE_JSON})
        assert response.status_code == 200
        assert response.json() == cached
        assert response.headers["X-Wheelyard-Upstream"] == "stale"
        assert down in response.headers["Warning"]
        never = client.get("/simple/never-cached/")
    assert never.status_code == 502
    assert down in never.text


def test_an_upstream_slower_than_the_timeout_is_504_with_the_reason(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with (
        silent_server() as url,
        client_for(settings, sessions, url, upstream_timeout=0.3) as client,
    ):
        response = client.get("/simple/slow-one/")
    assert response.status_code == 504
    assert "did not answer in time" in response.text
