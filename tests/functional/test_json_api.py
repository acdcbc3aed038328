"""PyPI's JSON API over HTTP: shape, URLs, redirects, conditional requests, freshness."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.config import Settings
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.services import journal
from wheelyard.services.audit import Origin
from wheelyard.services.index.page_cache import PageCache
from wheelyard.services.projects import maintainers
from wheelyard.storage.base import FileStorage

ORIGIN = Origin()
INFO_KEYS = {
    "author",
    "author_email",
    "bugtrack_url",
    "classifiers",
    "description",
    "description_content_type",
    "docs_url",
    "download_url",
    "downloads",
    "dynamic",
    "home_page",
    "keywords",
    "license",
    "license_expression",
    "license_files",
    "maintainer",
    "maintainer_email",
    "name",
    "package_url",
    "platform",
    "project_url",
    "project_urls",
    "provides_extra",
    "release_url",
    "requires_dist",
    "requires_python",
    "summary",
    "version",
    "yanked",
    "yanked_reason",
}
FILE_KEYS = {
    "comment_text",
    "core-metadata",
    "digests",
    "downloads",
    "filename",
    "has_sig",
    "md5_digest",
    "packagetype",
    "python_version",
    "requires_python",
    "size",
    "upload_time",
    "upload_time_iso_8601",
    "url",
    "yanked",
    "yanked_reason",
}


def _release(
    make: Factory,
    storage: FileStorage,
    package: Package,
    version: str,
    *,
    yanked: bool = False,
    **metadata: Any,
) -> None:
    release = make.release(package, version, with_file=False, yanked=yanked)
    project = Project(name=package.name, version=version, **metadata)
    make.stored_file(release, wheel(project), storage)
    make.stored_file(release, sdist(project), storage)


@pytest.fixture
def json_thing(make: Factory, storage: FileStorage, db: Session) -> Package:
    """ "Json.Thing": 1.0, 1.1 with metadata to show, 2.0 yanked, and 3.0b1."""
    package = make.package("Json.Thing", versions=())
    _release(make, storage, package, "1.0")
    _release(
        make,
        storage,
        package,
        "1.1",
        requires_dist=["requests>=2", "rich; extra == 'pretty'"],
        requires_python=">=3.9",
        classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved"],
    )
    _release(make, storage, package, "2.0", yanked=True)
    _release(make, storage, package, "3.0b1")
    journal.record(db, package, journal.Action.NEW_RELEASE, version="3.0b1")
    db.commit()
    return package


def test_project_document_has_pypis_shape(client: TestClient, json_thing: Package) -> None:
    response = client.get("/pypi/json-thing/json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-pypi-last-serial"] == str(json_thing.last_serial)
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert set(document) == {
        "info",
        "last_serial",
        "ownership",
        "releases",
        "urls",
        "vulnerabilities",
    }
    assert set(document["info"]) == INFO_KEYS
    assert document["last_serial"] == json_thing.last_serial
    assert document["vulnerabilities"] == []
    for files in document["releases"].values():
        for file in files:
            assert set(file) == FILE_KEYS


def test_latest_is_the_highest_final_release_not_yanked(
    client: TestClient, json_thing: Package
) -> None:
    document = client.get("/pypi/json-thing/json").json()
    info = document["info"]

    assert info["version"] == "1.1"  # 2.0 is yanked, 3.0b1 a pre-release
    assert info["name"] == "Json.Thing"
    assert info["requires_dist"] == ["requests>=2", "rich; extra == 'pretty'"]
    assert info["requires_python"] == ">=3.9"
    assert info["classifiers"] == ["Programming Language :: Python :: 3", "License :: OSI Approved"]
    # Without WHEELYARD_PUBLIC_URL, links are relative to the site root (never from Host).
    assert info["package_url"] == "/project/json-thing/"
    assert info["release_url"] == "/project/json-thing/1.1/"
    assert info["yanked"] is False
    assert [file["filename"] for file in document["urls"]] == [
        "json_thing-1.1-py3-none-any.whl",
        "json_thing-1.1.tar.gz",
    ]
    assert list(document["releases"]) == ["1.0", "1.1", "2.0", "3.0b1"]


def test_file_entries_download_with_their_digests(client: TestClient, json_thing: Package) -> None:
    document = client.get("/pypi/json-thing/json").json()
    file = document["releases"]["2.0"][0]

    assert file["yanked"] is True
    assert file["url"].startswith("/packages/")
    assert file["upload_time_iso_8601"].endswith("Z")
    assert file["upload_time_iso_8601"].startswith(file["upload_time"])
    content = client.get(file["url"]).content
    assert hashlib.sha256(content).hexdigest() == file["digests"]["sha256"]
    assert hashlib.blake2b(content, digest_size=32).hexdigest() == file["digests"]["blake2b_256"]
    assert hashlib.md5(content, usedforsecurity=False).hexdigest() == file["md5_digest"]
    assert file["size"] == len(content)


def test_release_document_describes_that_version(client: TestClient, json_thing: Package) -> None:
    response = client.get("/pypi/json-thing/2.0/json")

    assert response.status_code == 200
    document = response.json()
    assert set(document) == {"info", "last_serial", "ownership", "urls", "vulnerabilities"}
    assert document["info"]["version"] == "2.0"
    assert document["info"]["yanked"] is True
    assert document["info"]["requires_dist"] is None  # 2.0 declared no dependencies
    assert {file["filename"] for file in document["urls"]} == {
        "json_thing-2.0-py3-none-any.whl",
        "json_thing-2.0.tar.gz",
    }


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/pypi/Json.Thing/json", "/pypi/json-thing/json"),
        ("/pypi/JSON_thing/1.1/json", "/pypi/json-thing/1.1/json"),
        ("/pypi/json-thing/1.1.0/json", "/pypi/json-thing/1.1/json"),
    ],
)
def test_other_spellings_redirect(
    client: TestClient, json_thing: Package, path: str, location: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    "path",
    ["/pypi/no-such-thing/json", "/pypi/json-thing/9.9/json", "/pypi/-x-/json", "/pypi/a b/json"],
)
def test_unknown_projects_and_versions_are_404(
    client: TestClient, json_thing: Package, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_a_project_without_releases_is_404(client: TestClient, make: Factory) -> None:
    make.package("empty-thing", versions=())
    assert client.get("/pypi/empty-thing/json").status_code == 404


def test_etag_answers_304(client: TestClient, json_thing: Package) -> None:
    etag = client.get("/pypi/json-thing/json").headers["etag"]
    response = client.get("/pypi/json-thing/json", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["x-pypi-last-serial"] == str(json_thing.last_serial)


def test_a_new_release_is_visible_at_once(
    client: TestClient, app: Starlette, json_thing: Package, make: Factory, db: Session
) -> None:
    assert client.get("/pypi/json-thing/json").json()["info"]["version"] == "1.1"
    assert client.get("/pypi/json-thing/1.5/json").status_code == 404

    _release(make, app.state.storage, json_thing, "1.5")
    serial = journal.record(db, json_thing, journal.Action.NEW_RELEASE, version="1.5")
    db.commit()

    response = client.get("/pypi/json-thing/json")
    assert response.json()["info"]["version"] == "1.5"
    assert response.json()["last_serial"] == serial
    assert client.get("/pypi/json-thing/1.5/json").status_code == 200


@pytest.fixture
def public_app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    return app_for(replace(settings, public_url="https://pypi.example.org"), sessions)


def test_urls_are_absolute_from_the_public_url(public_app: Starlette, json_thing: Package) -> None:
    with TestClient(public_app, base_url="http://testserver") as client:
        document = client.get("/pypi/json-thing/json").json()
        release = client.get("/pypi/json-thing/1.1/json").json()
    assert document["urls"][0]["url"].startswith("https://pypi.example.org/packages/")
    assert document["info"]["package_url"] == "https://pypi.example.org/project/json-thing/"
    assert release["urls"][0]["url"].startswith("https://pypi.example.org/packages/")


@pytest.mark.parametrize("allowed_hosts", [("*",)])
def test_one_cached_document_whatever_host_is_asked(app: Starlette, json_thing: Package) -> None:
    pages: PageCache = app.state.pages
    bodies = set()
    with TestClient(app, base_url="http://testserver") as client:
        for number in range(40):
            host = f"host-{number}.example"
            for path in ("/pypi/json-thing/json", "/pypi/json-thing/1.1/json"):
                response = client.get(path, headers={"Host": host})
                assert response.status_code == 200
                assert host not in response.text
                bodies.add(response.content)
    assert len(bodies) == 2
    assert pages.stats().entries == 2  # the project's document and one release's


def test_ownership_follows_role_changes_in_the_cached_document(
    client: TestClient, json_thing: Package, make: Factory, db: Session
) -> None:
    owner = make.user(name="Olive", email="olive@example.com")
    make.db.add(Maintainer(user=owner, package=json_thing, role=Role.OWNER))
    reader = make.user(name="Rita", email="rita@example.com")
    make.db.add(Maintainer(user=reader, package=json_thing, role=Role.READER))
    db.commit()
    assert client.get("/pypi/json-thing/json").json()["ownership"] == {
        "organization": None,
        "roles": [{"role": "Owner", "user": "Olive"}],  # readers only install
    }
    helper = make.user(name="Hal", email="hal@example.com")
    serial = json_thing.last_serial

    maintainers.add(db, json_thing, "hal@example.com", Role.MAINTAINER, actor=owner, origin=ORIGIN)
    db.commit()

    assert json_thing.last_serial > serial  # journalled, so every worker's cache drops it
    document = client.get("/pypi/json-thing/json").json()
    assert document["ownership"]["roles"] == [
        {"role": "Owner", "user": "Olive"},
        {"role": "Maintainer", "user": "Hal"},
    ]
    maintainers.change_role(db, json_thing, helper.id, Role.OWNER, actor=owner, origin=ORIGIN)
    db.commit()
    roles = client.get("/pypi/json-thing/1.1/json").json()["ownership"]["roles"]
    assert roles == [{"role": "Owner", "user": "Hal"}, {"role": "Owner", "user": "Olive"}]
    maintainers.remove(db, json_thing, helper.id, actor=owner, origin=ORIGIN)
    db.commit()
    roles = client.get("/pypi/json-thing/json").json()["ownership"]["roles"]
    assert roles == [{"role": "Owner", "user": "Olive"}]


def test_files_name_their_core_metadata(client: TestClient, json_thing: Package) -> None:
    document = client.get("/pypi/json-thing/json").json()
    for files in [document["urls"], *document["releases"].values()]:
        for file in files:
            if file["packagetype"] == "bdist_wheel":
                metadata = client.get(file["url"] + ".metadata").content
                assert file["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
            else:
                assert file["core-metadata"] is False


def test_license_comes_from_the_license_field_only(
    client: TestClient, make: Factory, storage: FileStorage, db: Session
) -> None:
    package = make.package("lic-thing", versions=())
    _release(
        make,
        storage,
        package,
        "1.0",
        classifiers=["License :: OSI Approved :: MIT License"],
        extra_headers=["Home-page: javascript:alert(1)", "Project-URL: Bad, data:text/html,x"],
    )
    _release(
        make,
        storage,
        package,
        "2.0",
        metadata_version="2.4",
        license_expression="MIT OR Apache-2.0",
        extra_headers=["License-File: LICENSE", "License-File: NOTICE"],
    )
    db.commit()

    old = client.get("/pypi/lic-thing/1.0/json").json()["info"]
    new = client.get("/pypi/lic-thing/json").json()["info"]

    # A classifier is not the License field, nor is the name the index files it under.
    assert (old["license"], old["license_expression"], old["license_files"]) == (None, None, None)
    assert old["home_page"] is None and old["project_urls"] is None
    assert new["license"] is None
    assert new["license_expression"] == "MIT OR Apache-2.0"
    assert new["license_files"] == ["LICENSE", "NOTICE"]
