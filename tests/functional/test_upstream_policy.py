"""The supply-chain controls over a real upstream on loopback: a cooldown that holds back
freshly uploaded files (from our pages and their downloads), and projects allowed or denied
by name, which are never fetched."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypi_simple import ProjectPage
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.upstreams import static_index, write_json_tree, write_static_tree
from wheelyard.config import Settings
from wheelyard.data.upstream_file import UpstreamFile

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
WEEK = 7 * 86400
OLD = wheel(Project("cool-demo", "1.0"))
OLD_SDIST = sdist(Project("cool-demo", "1.0"))
NEW = wheel(Project("cool-demo", "2.0"))
TIMELESS = wheel(Project("cool-demo", "3.0"))
HTML_ONLY = wheel(Project("html-demo", "1.0"))
EVIL = wheel(Project("evil-demo", "1.0"))


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Static:
    url: str
    log: Path

    def asked(self, path: str) -> int:
        return self.log.read_text().count(f"GET {path} ")


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Static]:
    root = tmp_path_factory.mktemp("static-policy")
    now = dt.datetime.now(dt.UTC)
    write_json_tree(
        root,
        "cool-demo",
        [
            (OLD, iso(now - dt.timedelta(days=30))),
            (OLD_SDIST, iso(now - dt.timedelta(days=30))),
            (NEW, iso(now - dt.timedelta(hours=1))),
            (TIMELESS, None),
        ],
    )
    write_static_tree(root, "html-demo", [HTML_ONLY])
    write_static_tree(root, "evil-demo", [EVIL])
    log = root / "requests.log"
    with static_index(root, log) as url:
        yield Static(url, log)


def client_for(
    settings: Settings, sessions: sessionmaker[Session], static: Static, **more: Any
) -> TestClient:
    configured = dataclasses.replace(settings, upstream_urls=(static.url,), **more)
    return TestClient(app_for(configured, sessions), base_url="http://testserver")


def download(client: TestClient, name: str) -> Any:
    return client.get(f"/packages/upstream/cool-demo/{name}")


def test_without_a_minimum_age_every_file_is_served(
    settings: Settings, sessions: sessionmaker[Session], static: Static
) -> None:
    with client_for(settings, sessions, static) as client:
        page = client.get("/simple/cool-demo/", headers={"Accept": SIMPLE_JSON})
        assert page.status_code == 200
        assert "X-Wheelyard-Upstream-Held" not in page.headers
        names = {file["filename"] for file in page.json()["files"]}
    assert names == {OLD.filename, OLD_SDIST.filename, NEW.filename, TIMELESS.filename}


def test_files_newer_than_the_minimum_age_are_left_out_and_their_downloads_404(
    settings: Settings, sessions: sessionmaker[Session], static: Static, db: Session
) -> None:
    with client_for(settings, sessions, static, upstream_min_age=WEEK) as client:
        page = client.get("/simple/cool-demo/", headers={"Accept": SIMPLE_JSON})
        html = client.get("/simple/cool-demo/", headers={"Accept": "text/html"})
        again = client.get("/simple/cool-demo/", headers={"Accept": SIMPLE_JSON})
        new = download(client, NEW.filename)
        new_metadata = download(client, NEW.filename + ".metadata")
        timeless = download(client, TIMELESS.filename)
        old = download(client, OLD.filename)
    assert page.status_code == 200
    document = page.json()
    assert {file["filename"] for file in document["files"]} == {OLD.filename, OLD_SDIST.filename}
    # 2.0 and 3.0 have no file left to install: they are not versions here either.
    assert document["versions"] == ["1.0"]
    assert page.headers["X-Wheelyard-Upstream-Held"] == "2"
    # The worker's rendered copy says the same.
    assert again.headers["X-Wheelyard-Upstream-Held"] == "2"
    assert again.json() == document
    parsed = ProjectPage.from_html("cool-demo", html.text, "http://testserver/simple/cool-demo/")
    assert {p.filename for p in parsed.packages} == {OLD.filename, OLD_SDIST.filename}
    assert html.headers["X-Wheelyard-Upstream-Held"] == "2"
    assert new.status_code == 404
    assert "less than 7d ago (WHEELYARD_UPSTREAM_MIN_AGE)" in new.text
    assert NEW.filename in new.text
    assert new_metadata.status_code == 404
    assert timeless.status_code == 404
    assert "gives no upload time" in timeless.text
    assert old.status_code == 200
    assert old.content == OLD.content
    # Held files were never fetched.
    assert static.asked(f"/files/{NEW.filename}") == 0
    assert static.asked(f"/files/{TIMELESS.filename}") == 0
    assert {row.filename for row in db.query(UpstreamFile)} == {OLD.filename}


def test_a_file_kept_before_the_cooldown_was_set_is_held_back_too(
    settings: Settings, sessions: sessionmaker[Session], static: Static
) -> None:
    with client_for(settings, sessions, static) as client:
        assert download(client, NEW.filename).status_code == 200
    with client_for(settings, sessions, static, upstream_min_age=WEEK) as client:
        held = download(client, NEW.filename)
        old = download(client, OLD.filename)
    assert held.status_code == 404
    assert "WHEELYARD_UPSTREAM_MIN_AGE" in held.text
    assert old.status_code == 200


def test_an_html_upstream_gives_no_upload_times_so_a_cooldown_holds_all_its_files(
    settings: Settings, sessions: sessionmaker[Session], static: Static
) -> None:
    with client_for(settings, sessions, static, upstream_min_age=60) as client:
        page = client.get("/simple/html-demo/", headers={"Accept": SIMPLE_JSON})
        held = client.get(f"/packages/upstream/html-demo/{HTML_ONLY.filename}")
    assert page.status_code == 200
    assert page.json()["files"] == []
    assert page.headers["X-Wheelyard-Upstream-Held"] == "1"
    assert held.status_code == 404
    assert "gives no upload time" in held.text


def test_denied_and_not_allowed_projects_are_404_with_the_reason_and_never_fetched(
    settings: Settings, sessions: sessionmaker[Session], static: Static
) -> None:
    before = static.asked("/simple/evil-demo/")
    with client_for(
        settings, sessions, static, upstream_allow=("*-demo",), upstream_deny=("evil-*",)
    ) as client:
        page = client.get("/simple/evil-demo/")
        file = client.get(f"/packages/upstream/evil-demo/{EVIL.filename}")
        allowed = client.get("/simple/html-demo/")
    with client_for(settings, sessions, static, upstream_allow=("cool-*",)) as client:
        not_allowed = client.get("/simple/html-demo/")
    assert page.status_code == 404
    assert "denied by WHEELYARD_UPSTREAM_DENY (pattern 'evil-*')" in page.text
    assert file.status_code == 404
    assert "WHEELYARD_UPSTREAM_DENY" in file.text
    assert allowed.status_code == 200
    assert not_allowed.status_code == 404
    assert "matches no WHEELYARD_UPSTREAM_ALLOW pattern" in not_allowed.text
    assert static.asked("/simple/evil-demo/") == before
    assert static.asked(f"/files/{EVIL.filename}") == 0
