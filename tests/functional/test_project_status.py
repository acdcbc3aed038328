"""PEP 792 project status: markers in the Simple API, uploads refused, quarantine, caches."""

from __future__ import annotations

import pytest
from pypi_simple import IndexPage, ProjectPage, ProjectStatus
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, post_dist
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.storage.base import FileStorage

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PAGE_URL = "http://testserver/simple/demo/"
MANAGE = "/manage/project/demo/"


@pytest.fixture
def stored(make: Factory, owner: User, storage: FileStorage) -> ReleaseFile:
    """demo 1.0 with a real wheel in storage, owned by ``owner``."""
    package = make.package("demo", versions=(), owner=owner)
    release = make.release(package, "1.0", with_file=False)
    return make.stored_file(release, wheel(Project("demo", "1.0")), storage)


@pytest.fixture
def as_owner(client: TestClient, owner: User, stored: ReleaseFile) -> TestClient:
    assert log_in(client, owner.email).status_code == 303
    return client


def set_status(client: TestClient, status: str, reason: str = "") -> tuple[int, str]:
    fields = {"csrf_token": csrf_from(client, MANAGE), "status": status, "reason": reason}
    response = client.post(MANAGE + "status", data=fields, follow_redirects=True)
    return response.status_code, response.text


def pages(client: TestClient) -> tuple[ProjectPage, ProjectPage]:
    html = client.get("/simple/demo/", headers={"Accept": "text/html"})
    json = client.get("/simple/demo/", headers={"Accept": SIMPLE_JSON})
    assert html.status_code == json.status_code == 200
    return (
        ProjectPage.from_html("demo", html.text, base_url=PAGE_URL),
        ProjectPage.from_json_data(json.json(), base_url=PAGE_URL),
    )


def test_an_active_project_says_so_in_api_version_1_4(
    client: TestClient, stored: ReleaseFile
) -> None:
    for page in pages(client):
        assert page.repository_version == "1.4"
        assert page.status is ProjectStatus.ACTIVE
        assert page.status_reason is None
        assert [package.filename for package in page.packages] == [stored.filename]


def test_owners_archive_and_the_markers_follow_at_once(
    as_owner: TestClient, db: Session, stored: ReleaseFile
) -> None:
    pages(as_owner)  # both representations are in the worker's cache now

    status, text = set_status(as_owner, "archived", "moved to demo2 <b>now</b>")
    assert status == 200 and "demo is now archived." in text

    for page in pages(as_owner):
        assert page.status is ProjectStatus.ARCHIVED
        assert page.status_reason == "moved to demo2 <b>now</b>"
        assert len(page.packages) == 1  # archived files are still served
    raw = as_owner.get("/simple/demo/", headers={"Accept": "text/html"}).text
    assert '<meta name="pypi:project-status" content="archived">' in raw
    assert "moved to demo2 &lt;b&gt;now&lt;/b&gt;" in raw
    document = as_owner.get("/simple/demo/", headers={"Accept": SIMPLE_JSON}).json()
    assert document["project-status"] == {
        "status": "archived",
        "reason": "moved to demo2 <b>now</b>",
    }
    banner = as_owner.get("/project/demo/").text
    assert "This project is archived." in banner and "moved to demo2" in banner

    set_status(as_owner, "deprecated")
    for page in pages(as_owner):
        assert page.status is ProjectStatus.DEPRECATED
        assert page.status_reason is None


def test_an_archived_project_refuses_uploads_with_the_reason(
    as_owner: TestClient, app: Starlette, owner: User, db: Session
) -> None:
    set_status(as_owner, "archived", "no longer maintained")
    response = post_dist(
        elsewhere(app), wheel(Project("demo", "2.0")), basic_auth(owner.email, PASSWORD)
    )
    assert response.status_code == 403
    assert "archived" in response.text and "no longer maintained" in response.text
    package = db.get(Package, "demo")
    assert package is not None
    db.refresh(package)
    assert [release.version for release in package.releases] == ["1.0"]

    set_status(as_owner, "active")
    response = post_dist(
        elsewhere(app), wheel(Project("demo", "2.0")), basic_auth(owner.email, PASSWORD)
    )
    assert response.status_code == 200, response.text


def test_owners_cannot_quarantine(as_owner: TestClient, db: Session) -> None:
    status, text = set_status(as_owner, "quarantined", "mine")
    assert status == 400 and "Only the site admins quarantine" in text
    status, text = set_status(as_owner, "sideways")
    assert status == 400 and "Choose a status" in text
    package = db.get(Package, "demo")
    assert package is not None and package.status.value == "active"


def test_a_quarantined_project_serves_no_files_and_leaves_the_list(
    client: TestClient, app: Starlette, make: Factory, stored: ReleaseFile
) -> None:
    make.package("other")
    listed = client.get("/simple/", headers={"Accept": SIMPLE_JSON}).json()
    assert [entry["name"] for entry in listed["projects"]] == ["demo", "other"]
    html_page, _ = pages(client)
    download = html_page.packages[0].url.removeprefix("http://testserver")
    assert client.get(download).status_code == 200
    assert client.get(download + ".metadata").status_code == 200

    admin = elsewhere(app)
    make.user(email="admin@example.com", is_admin=True)
    log_in(admin, "admin@example.com")
    fields = {
        "csrf_token": csrf_from(admin, "/admin/"),
        "project": "demo",
        "status": "quarantined",
        "reason": "ships malware",
    }
    assert admin.post("/admin/projects/status", data=fields).status_code == 200

    for page in pages(client):
        assert page.status is ProjectStatus.QUARANTINED
        assert page.status_reason == "ships malware"
        assert page.packages == []
    assert client.get(download).status_code == 404
    assert client.get(download + ".metadata").status_code == 404
    listed = client.get("/simple/", headers={"Accept": SIMPLE_JSON}).json()
    assert [entry["name"] for entry in listed["projects"]] == ["other"]
    assert IndexPage.from_html(client.get("/simple/").text).projects == ["other"]
    assert "This project is quarantined." in client.get("/project/demo/").text

    fields["status"], fields["reason"] = "active", ""
    fields["csrf_token"] = csrf_from(admin, "/admin/")
    assert admin.post("/admin/projects/status", data=fields).status_code == 200
    assert client.get(download).status_code == 200
    assert len(pages(client)[1].packages) == 1
    listed = client.get("/simple/", headers={"Accept": SIMPLE_JSON}).json()
    assert [entry["name"] for entry in listed["projects"]] == ["demo", "other"]
