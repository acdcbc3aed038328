"""``/pypi/<name>/json`` of an upstream project: the upstream's own document, cached beside
its simple page, with file URLs pointing here and held-back files left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.live_server import LiveServer, run_server
from tests.helpers.upstreams import closed_port_url, seed
from wheelyard.config import Settings
from wheelyard.data.upstream_document import UpstreamDocument

DEMO = [wheel(Project("json-demo", "1.0")), sdist(Project("json-demo", "1.0"))]
DEMO_2 = wheel(Project("json-demo", "2.0"))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("json-upstream"), postgres_url()) as server:
        seed(server, [*DEMO, DEMO_2])
        yield server


def client_for(
    settings: Settings, sessions: sessionmaker[Session], url: str, **more: Any
) -> TestClient:
    configured = dataclasses.replace(settings, upstream_urls=(url,), **more)
    return TestClient(app_for(configured, sessions), base_url="http://testserver")


def test_the_upstream_document_is_served_with_file_urls_pointing_here(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer, db: Session
) -> None:
    hosts = ("testserver", "localhost")
    with client_for(settings, sessions, upstream.url + "/simple/", allowed_hosts=hosts) as client:
        response = client.get("/pypi/json-demo/json", headers={"Host": "localhost"})
        other_host = client.get("/pypi/json-demo/json")
        document = response.json()
        url = document["urls"][0]["url"]
        download = client.get("/pypi/json-demo/" + url)
    assert response.status_code == 200, response.text
    assert response.headers["X-Wheelyard-Upstream"] == "fresh"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # Not the Host's: the same bytes whoever asks.
    assert other_host.content == response.content
    assert document["info"]["name"] == "json-demo"
    assert document["info"]["version"] == "2.0"
    assert set(document["releases"]) == {"1.0", "2.0"}
    every = [f for files in document["releases"].values() for f in files]
    assert {f["filename"] for f in every} == {d.filename for d in [*DEMO, DEMO_2]}
    for file in every:
        assert file["url"] == f"../../packages/upstream/json-demo/{file['filename']}"
    assert [f["filename"] for f in document["urls"]] == [DEMO_2.filename]
    assert download.status_code == 200
    assert download.content == DEMO_2.content
    row = db.get(UpstreamDocument, "json-demo")
    assert row is not None
    assert row.source == upstream.url + "/simple/"
    assert row.etag


def test_the_document_is_revalidated_after_the_ttl_and_served_stale_when_down(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer, db: Session
) -> None:
    url = upstream.url + "/simple/"
    with client_for(settings, sessions, url, upstream_ttl=0) as client:
        first = client.get("/pypi/json-demo/json")
        row = db.get(UpstreamDocument, "json-demo")
        assert row is not None
        checked = row.checked_date
        db.expire_all()
        second = client.get("/pypi/json-demo/json")
    assert second.content == first.content
    row = db.get(UpstreamDocument, "json-demo")
    assert row is not None
    assert row.checked_date > checked


def test_a_public_url_makes_the_file_urls_absolute_and_held_files_are_left_out(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer
) -> None:
    public = "https://pypi.example.org"
    with client_for(settings, sessions, upstream.url + "/simple/", public_url=public) as client:
        document = client.get("/pypi/json-demo/json").json()
    assert document["urls"][0]["url"] == (f"{public}/packages/upstream/json-demo/{DEMO_2.filename}")
    with client_for(
        settings, sessions, upstream.url + "/simple/", upstream_min_age=86400
    ) as client:
        held = client.get("/pypi/json-demo/json")
    assert held.status_code == 200
    assert held.headers["X-Wheelyard-Upstream-Held"] == "3"
    assert held.json()["releases"] == {}
    assert held.json()["urls"] == []


def test_unknown_denied_and_unreachable_names(
    settings: Settings, sessions: sessionmaker[Session], upstream: LiveServer
) -> None:
    url = upstream.url + "/simple/"
    with client_for(settings, sessions, url, upstream_deny=("json-*",)) as client:
        denied = client.get("/pypi/json-demo/json")
    with client_for(settings, sessions, url) as client:
        unknown = client.get("/pypi/nowhere-here/json")
    with client_for(settings, sessions, closed_port_url()) as client:
        down = client.get("/pypi/never-cached/json")
    assert denied.status_code == 404
    assert "WHEELYARD_UPSTREAM_DENY" in denied.text
    assert unknown.status_code == 404
    assert down.status_code == 502
