from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.services.index import project_json
from wheelyard.services.index.project_json import JsonDocument, VersionMoved
from wheelyard.storage.local import LocalStorage

BASE = "https://index.example/"


def _release(
    make: Factory, storage: LocalStorage, package: Package, version: str, **kw: Any
) -> None:
    yanked = kw.pop("yanked", False)
    release = make.release(package, version, with_file=False, yanked=yanked)
    make.stored_file(release, wheel(Project(package.name, version, **kw)), storage)


def _decode(document: JsonDocument | VersionMoved | None) -> dict[str, Any]:
    assert isinstance(document, JsonDocument)
    decoded: dict[str, Any] = json.loads(document.body)
    return decoded


@pytest.mark.parametrize(
    ("releases", "latest"),
    [
        ([("1.0", False), ("1.10", False), ("1.9", False)], "1.10"),
        ([("1.0", False), ("2.0", True)], "1.0"),
        ([("1.0", False), ("2.0rc1", False)], "1.0"),
        ([("1.0a1", False), ("1.0b2", False)], "1.0b2"),  # only pre-releases: the highest
        ([("1.0", True), ("2.0", True)], "2.0"),  # all yanked: the newest still describes it
    ],
)
def test_info_describes_the_latest_release(
    db: Session,
    make: Factory,
    storage: LocalStorage,
    releases: list[tuple[str, bool]],
    latest: str,
) -> None:
    package = make.package("latest-demo", versions=())
    for version, yanked in releases:
        _release(make, storage, package, version, yanked=yanked)

    document = _decode(project_json.project_document(db, storage, "latest-demo", BASE))

    assert document["info"]["version"] == latest
    assert {file["filename"] for file in document["urls"]} == {
        f"latest_demo-{latest}-py3-none-any.whl"
    }


def test_info_comes_from_the_uploaded_metadata(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    package = make.package("meta-demo", versions=())
    # Not shown: the release's own metadata is, and these describe no release.
    package.home_page = "https://old-home.example"
    package.docs_url = "https://docs.example"
    _release(
        make,
        storage,
        package,
        "1.0",
        requires_dist=["attrs>=22"],
        requires_python=">=3.10",
        classifiers=["Framework :: Pytest"],
        license_expression="MIT",
        summary="From the wheel",
        extra_headers=[
            "Home-page: https://home.example",
            "Project-URL: Documentation, https://docs.example/stable/",
            "Project-URL: Source, https://src.example/",
        ],
    )

    info = _decode(project_json.project_document(db, storage, "meta-demo", BASE))["info"]

    assert info["requires_dist"] == ["attrs>=22"]
    assert info["requires_python"] == ">=3.10"
    assert info["classifiers"] == ["Framework :: Pytest"]
    assert info["license_expression"] == "MIT"
    assert info["summary"] == "From the wheel"
    assert info["author"] == "Test Author"
    assert info["home_page"] == "https://home.example"
    assert info["docs_url"] is None  # its own field only, which uploads never have
    assert info["project_urls"] == {
        "Homepage": "https://home.example",
        "Documentation": "https://docs.example/stable/",
        "Source": "https://src.example/",
    }
    assert info["package_url"] == "https://index.example/project/meta-demo/"
    assert info["downloads"] == {"last_day": -1, "last_month": -1, "last_week": -1}


def test_links_that_are_not_http_are_dropped(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    package = make.package("sly-demo", versions=("1.0",))
    package.home_page = "javascript:alert(document.cookie)"
    package.docs_url = "data:text/html,<script>alert(1)</script>"

    info = _decode(project_json.project_document(db, storage, "sly-demo", BASE))["info"]

    assert info["home_page"] is None
    assert info["docs_url"] is None
    assert info["project_urls"] is None
    package.docs_url = "https://docs.example"
    db.flush()
    info = _decode(project_json.project_document(db, storage, "sly-demo", BASE))["info"]
    assert info["docs_url"] == "https://docs.example"
    assert info["project_urls"] is None  # docs_url is not a Project-URL, as on PyPI


def test_without_stored_metadata_info_comes_from_the_project(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    make.package("plain-demo", versions=("1.0",), summary="From the row")

    info = _decode(project_json.project_document(db, storage, "plain-demo", BASE))["info"]

    assert info["summary"] == "From the row"
    assert info["author"] == "Ada Author"
    assert info["requires_dist"] is None  # not known, rather than "no dependencies"
    assert info["classifiers"] == []


def test_releases_are_listed_oldest_first_with_their_files(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    package = make.package("order-demo", versions=())
    for version in ("1.10", "1.2", "1.9"):
        _release(make, storage, package, version)
    release = make.release(package, "2.0", with_file=False)
    make.stored_file(release, sdist(Project("order-demo", "2.0")), storage)

    document = _decode(project_json.project_document(db, storage, "order-demo", BASE))

    assert list(document["releases"]) == ["1.2", "1.9", "1.10", "2.0"]
    [sdist_file] = document["releases"]["2.0"]
    assert sdist_file["packagetype"] == "sdist"
    assert sdist_file["python_version"] == "source"
    assert sdist_file["url"].startswith(BASE + "packages/")
    assert len(sdist_file["digests"]["blake2b_256"]) == 64


def test_release_document_finds_other_spellings(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    package = make.package("spelling-demo", versions=())
    _release(make, storage, package, "2.0.0")

    assert project_json.release_document(db, storage, "spelling-demo", "2.0", BASE) == (
        VersionMoved("2.0.0")
    )
    document = _decode(project_json.release_document(db, storage, "spelling-demo", "2.0.0", BASE))
    assert "releases" not in document
    assert project_json.release_document(db, storage, "spelling-demo", "3.0", BASE) is None
    assert project_json.release_document(db, storage, "spelling-demo", "not-a-v", BASE) is None


def test_unknown_or_empty_projects_have_no_document(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    make.package("empty-demo", versions=())
    assert project_json.project_document(db, storage, "empty-demo", BASE) is None
    assert project_json.project_document(db, storage, "missing-demo", BASE) is None
    assert project_json.release_document(db, storage, "missing-demo", "1.0", BASE) is None
