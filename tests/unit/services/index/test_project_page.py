from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.services import journal
from wheelyard.services.index import project_page
from wheelyard.services.index.project_page import IndexedFile, ProjectDetail
from wheelyard.services.projects.release_files import metadata_path
from wheelyard.storage.local import LocalStorage

BASE_FILE = IndexedFile(
    filename="demo-1.0.tar.gz",
    url="../../packages/ab/cd/ef/demo-1.0.tar.gz",
    sha256="0" * 64,
    requires_python=None,
    yanked=False,
    yanked_reason=None,
    size=42,
    upload_time=dt.datetime(2024, 5, 6, 7, 8, 9, 123456),
    metadata_sha256=None,
)


def _indexed(**changes: Any) -> IndexedFile:
    return dataclasses.replace(BASE_FILE, **changes)


def test_project_detail_holds_every_version_and_file(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    package = make.package("Detail.Demo", versions=())
    old = make.release(package, "1.10", with_file=False)
    old.requires_python = ">=3.10"  # a release-wide value files without their own inherit
    make.stored_file(old, sdist(Project("detail-demo", "1.10")), storage)
    new = make.release(package, "1.9", with_file=False, yanked=True)
    new.yanked_reason = "oops"
    make.stored_file(new, wheel(Project("detail-demo", "1.9", requires_python=">=3.8")), storage)
    make.release(package, "2.0a1", with_file=False)
    serial = journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0a1")

    detail = project_page.project_detail(db, "detail-demo")

    assert detail is not None
    assert detail.name == "detail-demo"
    assert detail.versions == ("1.9", "1.10", "2.0a1")  # PEP 440 order, not text order
    assert detail.last_serial == serial
    by_name = {file.filename: file for file in detail.files}
    sdist_file = by_name["detail_demo-1.10.tar.gz"]
    assert sdist_file.requires_python == ">=3.10"
    assert sdist_file.url.startswith("../../packages/")
    assert sdist_file.metadata_sha256 is None
    wheel_file = by_name["detail_demo-1.9-py3-none-any.whl"]
    assert wheel_file.requires_python == ">=3.8"
    assert (wheel_file.yanked, wheel_file.yanked_reason) == (True, "oops")
    assert wheel_file.metadata_sha256 is not None


def test_unknown_project_has_no_detail(db: Session) -> None:
    assert project_page.project_detail(db, "nothing-here") is None


def test_html_escapes_and_carries_every_attribute() -> None:
    file = _indexed(
        filename="demo-1.0.tar.gz",
        requires_python=">=3.8,<4",
        yanked=True,
        yanked_reason='bad "quote" <b>',
        metadata_sha256="f" * 64,
    )
    page = project_page.detail_html(ProjectDetail("demo", ("1.0",), (file,), 7)).decode()

    assert '<meta name="pypi:repository-version" content="1.4">' in page
    assert f'href="../../packages/ab/cd/ef/demo-1.0.tar.gz#sha256={"0" * 64}"' in page
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in page
    assert f'data-core-metadata="sha256={"f" * 64}"' in page
    assert f'data-dist-info-metadata="sha256={"f" * 64}"' in page
    assert 'data-yanked="bad &quot;quote&quot; &lt;b&gt;"' in page
    assert "<b>" not in page


def test_html_marks_a_yank_without_reason_with_an_empty_attribute() -> None:
    page = project_page.detail_html(ProjectDetail("demo", (), (_indexed(yanked=True),), 0))
    assert b'data-yanked=""' in page
    assert b"data-requires-python" not in page
    assert b"data-core-metadata" not in page


def test_json_follows_pep_691_and_700() -> None:
    files = (
        _indexed(metadata_sha256="e" * 64, requires_python=">=3.9"),
        _indexed(filename="demo-0.9.tar.gz", yanked=True),
        _indexed(filename="demo-0.8.tar.gz", yanked=True, yanked_reason="why"),
    )
    document = json.loads(
        project_page.detail_json(ProjectDetail("demo", ("0.8", "0.9", "1.0"), files, 12))
    )

    assert document["meta"] == {"api-version": "1.4", "_last-serial": 12}
    assert document["versions"] == ["0.8", "0.9", "1.0"]
    first, second, third = document["files"]
    assert first == {
        "filename": "demo-1.0.tar.gz",
        "url": "../../packages/ab/cd/ef/demo-1.0.tar.gz",
        "hashes": {"sha256": "0" * 64},
        "requires-python": ">=3.9",
        "size": 42,
        "upload-time": "2024-05-06T07:08:09.123456Z",
        "yanked": False,
        "core-metadata": {"sha256": "e" * 64},
        "dist-info-metadata": {"sha256": "e" * 64},
    }
    assert second["yanked"] is True
    assert second["core-metadata"] is False
    assert third["yanked"] == "why"


def _zip(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_read_wheel_metadata_finds_the_one_metadata_file() -> None:
    built = wheel(Project("reader", "1.0"))
    assert project_page.read_wheel_metadata(io.BytesIO(built.content)) == built.metadata.encode()


@pytest.mark.parametrize(
    "blob",
    [
        _zip({"pkg/__init__.py": b""}),
        _zip({"a-1.dist-info/METADATA": b"x", "b-1.dist-info/METADATA": b"y"}),
        _zip({"deep/a-1.dist-info/METADATA": b"x"}),
        io.BytesIO(b"not a zip at all"),
    ],
)
def test_read_wheel_metadata_refuses_what_is_not_one_metadata(blob: io.BytesIO) -> None:
    assert project_page.read_wheel_metadata(blob) is None


def test_core_metadata_is_read_from_its_blob(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    release = make.release(make.package("meta-demo", versions=()), "1.0", with_file=False)
    built = wheel(Project("meta-demo", "1.0"))
    release_file = make.stored_file(release, built, storage)
    assert project_page.core_metadata(storage, release_file) == built.metadata.encode()


def test_core_metadata_falls_back_to_the_wheel_and_stores_it(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    release = make.release(make.package("meta-demo", versions=()), "1.0", with_file=False)
    release_file = make.stored_file(release, wheel(Project("meta-demo", "1.0")), storage)
    path = metadata_path(release_file)
    assert path is not None
    storage.delete(path)

    data = project_page.core_metadata(storage, release_file)

    assert data is not None
    assert hashlib.sha256(data).hexdigest() == release_file.metadata_sha256
    assert storage.exists(path)


def test_core_metadata_never_serves_what_the_digest_does_not_promise(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    release = make.release(make.package("meta-demo", versions=()), "1.0", with_file=False)
    release_file = make.stored_file(release, wheel(Project("meta-demo", "1.0")), storage)
    path = metadata_path(release_file)
    assert path is not None
    storage.delete(path)
    release_file.metadata_sha256 = "0" * 64

    assert project_page.core_metadata(storage, release_file) is None
    assert not storage.exists(path)


def test_files_without_metadata_have_none(
    db: Session, make: Factory, storage: LocalStorage
) -> None:
    release = make.release(make.package("meta-demo", versions=()), "1.0", with_file=False)
    release_file = make.stored_file(release, sdist(Project("meta-demo", "1.0")), storage)
    assert project_page.core_metadata(storage, release_file) is None


def test_status_markers_only_where_the_status_is_known() -> None:
    from wheelyard.data.package import ProjectStatus

    known = ProjectDetail("demo", (), (), 3, ProjectStatus.ARCHIVED, 'gone "for good" <now>')
    page = project_page.detail_html(known).decode()
    assert '<meta name="pypi:project-status" content="archived">' in page
    assert (
        '<meta name="pypi:project-status-reason" content="gone &quot;for good&quot; &lt;now&gt;">'
        in page
    )
    document = json.loads(project_page.detail_json(known))
    assert document["project-status"] == {"status": "archived", "reason": 'gone "for good" <now>'}
    # An upstream's page, whose status is not known: no marker at all.
    unknown = ProjectDetail("demo", (), (), 3)
    assert "project-status" not in project_page.detail_html(unknown).decode()
    assert "project-status" not in json.loads(project_page.detail_json(unknown))
