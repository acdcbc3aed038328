"""The Simple Repository API as clients read it: PEP 503 HTML and PEP 691 JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from pypi_simple import IndexPage, ProjectPage
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

import wheelyard.app
from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import journal
from wheelyard.services.index import project_list
from wheelyard.storage.base import FileStorage

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"
# What pip sends: JSON first, HTML as fallbacks.
PIP_ACCEPT = f"{SIMPLE_JSON}, {SIMPLE_HTML}; q=0.1, text/html; q=0.01"
PAGE_URL = "http://testserver/simple/tiny-thing/"
UPLOAD_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Seeded:
    package: Package
    files: dict[str, ReleaseFile]  # by filename
    dists: dict[str, Dist]


def _add(
    make: Factory, storage: FileStorage, package: Package, version: str, **kw: Any
) -> list[Dist]:
    """A release with a wheel and an sdist, really stored."""
    release = make.release(package, version, with_file=False)
    release.yanked = kw.pop("yanked", False)
    release.yanked_reason = kw.pop("reason", None)
    project = Project(name=package.name, version=version, **kw)
    dists = [wheel(project), sdist(project)]
    for dist in dists:
        make.stored_file(release, dist, storage)
    return dists


@pytest.fixture
def seeded(make: Factory, storage: FileStorage, db: Session) -> Seeded:
    package = make.package("Tiny_Thing", versions=())
    dists = [
        *_add(make, storage, package, "1.0", requires_python=">=3.8"),
        *_add(make, storage, package, "1.5", yanked=True, reason="broken <build>"),
        *_add(make, storage, package, "0.9", yanked=True),
        *_add(make, storage, package, "2.0rc1"),
    ]
    make.release(package, "3.0.dev0", with_file=False)  # a release without files yet
    journal.record(db, package, journal.Action.NEW_RELEASE, version="3.0.dev0")
    db.commit()
    files = {
        release_file.filename: release_file
        for release in package.releases
        for release_file in release.files
    }
    return Seeded(package, files, {dist.filename: dist for dist in dists})


def test_html_page_parses_with_pypi_simple(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/simple/tiny-thing/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert response.headers["x-pypi-last-serial"] == str(seeded.package.last_serial)
    page = ProjectPage.from_html("tiny-thing", response.text, base_url=PAGE_URL)
    assert page.repository_version == "1.4"
    packages = {package.filename: package for package in page.packages}
    assert set(packages) == set(seeded.files)
    for filename, package in packages.items():
        stored = seeded.files[filename]
        assert package.digests == {"sha256": stored.sha256_digest}
        assert package.url.startswith("http://testserver/packages/")
        assert package.url.endswith("/" + filename)
    wheel_10 = packages["tiny_thing-1.0-py3-none-any.whl"]
    assert wheel_10.requires_python == ">=3.8"
    assert wheel_10.has_metadata
    assert wheel_10.metadata_digests == {"sha256": seeded.files[wheel_10.filename].metadata_sha256}
    assert not wheel_10.is_yanked
    assert packages["tiny_thing-1.0.tar.gz"].has_metadata is None  # sdists carry none
    assert packages["tiny_thing-1.5.tar.gz"].is_yanked
    assert packages["tiny_thing-1.5.tar.gz"].yanked_reason == "broken <build>"
    assert packages["tiny_thing-0.9.tar.gz"].is_yanked
    assert not packages["tiny_thing-0.9.tar.gz"].yanked_reason  # data-yanked=""


def test_json_page_parses_with_pypi_simple(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/simple/tiny-thing/", headers={"Accept": PIP_ACCEPT})

    assert response.status_code == 200
    assert response.headers["content-type"] == SIMPLE_JSON
    assert response.headers["vary"] == "Accept"
    page = ProjectPage.from_json_data(response.json(), base_url=PAGE_URL)
    assert page.project == "tiny-thing"
    assert page.repository_version == "1.4"
    assert page.last_serial == str(seeded.package.last_serial)
    assert page.versions == ["0.9", "1.0", "1.5", "2.0rc1", "3.0.dev0"]
    packages = {package.filename: package for package in page.packages}
    assert set(packages) == set(seeded.files)
    wheel_15 = packages["tiny_thing-1.5-py3-none-any.whl"]
    assert wheel_15.is_yanked
    assert wheel_15.yanked_reason == "broken <build>"
    assert wheel_15.size == len(seeded.dists[wheel_15.filename].content)
    assert wheel_15.upload_time is not None
    assert wheel_15.metadata_digests == {"sha256": seeded.files[wheel_15.filename].metadata_sha256}
    assert packages["tiny_thing-0.9.tar.gz"].is_yanked
    assert packages["tiny_thing-0.9.tar.gz"].yanked_reason is None


def test_json_page_follows_pep_691_and_700(client: TestClient, seeded: Seeded) -> None:
    document = client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON}).json()

    assert set(document) == {"meta", "name", "versions", "files", "project-status"}
    assert document["project-status"] == {"status": "active"}
    assert document["meta"] == {"api-version": "1.4", "_last-serial": seeded.package.last_serial}
    assert document["name"] == "tiny-thing"
    for file in document["files"]:
        assert isinstance(file["filename"], str)
        assert isinstance(file["url"], str)
        assert SHA256.match(file["hashes"]["sha256"])
        assert file["requires-python"] is None or isinstance(file["requires-python"], str)
        assert isinstance(file["size"], int)
        assert UPLOAD_TIME.match(file["upload-time"])
        # PEP 592 / 691: false, true or a non-empty reason.
        assert file["yanked"] is False or file["yanked"] is True or file["yanked"]
        assert file["core-metadata"] == file["dist-info-metadata"]
        if file["filename"].endswith(".whl"):
            assert SHA256.match(file["core-metadata"]["sha256"])
        else:
            assert file["core-metadata"] is False
    yanked = {file["filename"]: file["yanked"] for file in document["files"]}
    assert yanked["tiny_thing-1.5.tar.gz"] == "broken <build>"
    assert yanked["tiny_thing-0.9.tar.gz"] is True
    assert yanked["tiny_thing-1.0.tar.gz"] is False


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "text/html; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        (SIMPLE_HTML, SIMPLE_HTML),
        ("application/vnd.pypi.simple.latest+json", SIMPLE_JSON),
        ("application/vnd.pypi.simple.latest+html", SIMPLE_HTML),
        (f"text/html;q=0.5, {SIMPLE_JSON};q=0.9", SIMPLE_JSON),
        (f"{SIMPLE_JSON};q=0.2, */*;q=0.8", "text/html; charset=utf-8"),
        (f"{SIMPLE_JSON};q=0, {SIMPLE_HTML}", SIMPLE_HTML),
        (f"text/html, {SIMPLE_JSON}", "text/html; charset=utf-8"),
        (f"{SIMPLE_JSON}, text/html", SIMPLE_JSON),
        ("application/*", SIMPLE_HTML),
    ],
)
def test_accept_chooses_the_representation(
    client: TestClient, seeded: Seeded, accept: str | None, content_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/simple/tiny-thing/", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


@pytest.mark.parametrize(
    "accept", ["application/json", "text/plain", f"{SIMPLE_JSON};q=0, text/*;q=0, */*;q=0"]
)
def test_unsupported_accept_is_406(client: TestClient, seeded: Seeded, accept: str) -> None:
    response = client.get("/simple/tiny-thing/", headers={"Accept": accept})
    assert response.status_code == 406
    assert SIMPLE_JSON in response.text


def test_format_query_parameter_overrides_accept(client: TestClient, seeded: Seeded) -> None:
    response = client.get(
        f"/simple/tiny-thing/?format={SIMPLE_JSON}", headers={"Accept": "text/html"}
    )
    assert response.headers["content-type"] == SIMPLE_JSON
    encoded = client.get("/simple/tiny-thing/?format=application%2Fvnd.pypi.simple.v1%2Bjson")
    assert encoded.headers["content-type"] == SIMPLE_JSON
    assert client.get("/simple/tiny-thing/?format=text/plain").status_code == 406


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Tiny_Thing/", "/simple/tiny-thing/"),
        ("/simple/tiny.thing/", "/simple/tiny-thing/"),
        ("/simple/TINY-thing", "/simple/tiny-thing/"),
        ("/simple/tiny-thing", "/simple/tiny-thing/"),
        ("/simple", "/simple/"),
        (f"/simple/Tiny_Thing/?format={SIMPLE_JSON}", f"/simple/tiny-thing/?format={SIMPLE_JSON}"),
    ],
)
def test_other_spellings_redirect_permanently(
    client: TestClient, seeded: Seeded, path: str, location: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == location


@pytest.mark.parametrize("path", ["/simple/no-such-project/", "/simple/-bad-/", "/simple/a%20b/"])
def test_unknown_or_invalid_projects_are_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": PIP_ACCEPT})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


def test_etag_answers_304_per_representation(client: TestClient, seeded: Seeded) -> None:
    html = client.get("/simple/tiny-thing/")
    json = client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON})
    assert html.headers["etag"] != json.headers["etag"]

    again = client.get("/simple/tiny-thing/", headers={"If-None-Match": html.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == html.headers["etag"]
    assert again.headers["x-pypi-last-serial"] == html.headers["x-pypi-last-serial"]
    stale = client.get(
        "/simple/tiny-thing/",
        headers={"If-None-Match": html.headers["etag"], "Accept": SIMPLE_JSON},
    )
    assert stale.status_code == 200


def test_a_committed_change_is_visible_at_once(
    client: TestClient, seeded: Seeded, make: Factory, storage: FileStorage, db: Session
) -> None:
    before = client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON})
    index_before = client.get("/simple/", headers={"Accept": SIMPLE_JSON})

    _add(make, storage, seeded.package, "4.0")
    serial = journal.record(db, seeded.package, journal.Action.NEW_RELEASE, version="4.0")
    other = make.package("another-thing")
    journal.record(db, other, journal.Action.CREATE)
    db.commit()

    after = client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON})
    assert after.headers["etag"] != before.headers["etag"]
    assert after.headers["x-pypi-last-serial"] == str(serial)
    assert "4.0" in after.json()["versions"]
    assert "tiny_thing-4.0-py3-none-any.whl" in {f["filename"] for f in after.json()["files"]}
    index_after = client.get("/simple/", headers={"Accept": SIMPLE_JSON})
    assert index_after.headers["etag"] != index_before.headers["etag"]
    assert "another-thing" in {p["name"] for p in index_after.json()["projects"]}


def test_yanking_is_visible_at_once(client: TestClient, seeded: Seeded, db: Session) -> None:
    client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON})
    release = next(r for r in seeded.package.releases if r.version == "1.0")
    release.yanked, release.yanked_reason = True, "security"
    journal.record(db, seeded.package, journal.Action.YANK, version="1.0")
    db.commit()

    document = client.get("/simple/tiny-thing/", headers={"Accept": SIMPLE_JSON}).json()
    yanked = {file["filename"]: file["yanked"] for file in document["files"]}
    assert yanked["tiny_thing-1.0-py3-none-any.whl"] == "security"


def test_index_lists_every_project(client: TestClient, seeded: Seeded, make: Factory) -> None:
    make.package("Zebra.Tools")
    html = client.get("/simple/")
    json = client.get("/simple/", headers={"Accept": PIP_ACCEPT})

    assert html.status_code == json.status_code == 200
    assert html.headers["vary"] == "Accept"
    assert IndexPage.from_html(html.text).projects == ["Tiny_Thing", "Zebra.Tools"]
    assert 'href="zebra-tools/"' in html.text
    page = IndexPage.from_json_data(json.json())
    assert page.projects == ["Tiny_Thing", "Zebra.Tools"]
    assert page.repository_version == "1.4"
    assert json.headers["x-pypi-last-serial"] == str(seeded.package.last_serial)


def test_imported_files_link_upstream(client: TestClient, make: Factory, db: Session) -> None:
    package = make.package("imported", versions=())
    release = make.release(package, "1.0", with_file=False)
    upstream = "https://files.example.org/packages/aa/bb/imported-1.0.tar.gz"
    db.add(
        ReleaseFile(
            release=release,
            filename="imported-1.0.tar.gz",
            packagetype="sdist",
            size=10,
            sha256_digest="a" * 64,
            url=upstream,
        )
    )
    db.flush()

    page = ProjectPage.from_html(
        "imported", client.get("/simple/imported/").text, "http://testserver/simple/imported/"
    )
    assert [package.url for package in page.packages] == [upstream]
    assert page.packages[0].digests == {"sha256": "a" * 64}


@pytest.mark.parametrize(("threshold", "built_at_start"), [(1, True), (10**9, False)])
def test_a_big_project_list_is_built_before_the_first_request(
    app: Starlette,
    make: Factory,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int,
    built_at_start: bool,
) -> None:
    make.package("listed-early")
    db.commit()
    monkeypatch.setattr(wheelyard.app, "BUILD_LISTING_AT_START", threshold)
    reads: list[str] = []
    real_read_range = project_list.read_range

    def counted(db: Session, low: str, high: str | None):  # type: ignore[no-untyped-def]
        reads.append(low)
        return real_read_range(db, low, high)

    monkeypatch.setattr(project_list, "read_range", counted)
    with TestClient(app, base_url="http://testserver") as client:
        reads_at_start = len(reads)
        response = client.get("/simple/")
    assert response.status_code == 200
    assert b"listed-early" in response.content
    # Built at start, the list is read once, before any request; otherwise by the request.
    assert (reads_at_start, len(reads)) == ((1, 1) if built_at_start else (0, 1))
