"""services.ops.importers.pypi_json: importing whole documents, small ones written per case.

Reading a document, the project's description and its people have their own modules and
tests (test_pypi_documents, test_pypi_description, test_pypi_people).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.pypi_documents import pypi_document, pypi_file
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.release_metadata import ReleaseMetadata
from wheelyard.services import journal
from wheelyard.services.ops.importers.pypi_documents import DocumentError
from wheelyard.services.ops.importers.pypi_json import ImportResult, import_document
from wheelyard.services.projects.packages import latest_release

CHECKED_TABLES = (
    "packages",
    "releases",
    "release_files",
    "file_registry",
    "users",
    "maintainers",
    "licenses",
    "languages",
    "package_languages",
    "journal",
)


def simple_document(name: str = "demo", **info: Any) -> dict[str, Any]:
    return pypi_document(name, {"1.0": [pypi_file(f"{name}-1.0.tar.gz")]}, **info)


def get_package(db: Session, package_id: str) -> Package:
    db.expire_all()
    package = db.get(Package, package_id)
    assert package is not None
    return package


def rows_of(db: Session) -> dict[str, list[str]]:
    """Every row of the importer's tables, sorted: equal dumps mean nothing changed."""
    dump = {}
    for name in CHECKED_TABLES:
        table = SqlAlchemyBase.metadata.tables[name]
        dump[name] = sorted(repr(tuple(row)) for row in db.execute(sa.select(table)))
    return dump


# --- the project ------------------------------------------------------------------------------


def test_creates_the_project_with_its_description(db: Session) -> None:
    document = pypi_document(
        "Demo_Project",
        {
            "1.0": [pypi_file("demo_project-1.0.tar.gz", uploaded="2020-01-01T10:00:00")],
            "1.1": [pypi_file("demo_project-1.1.tar.gz", uploaded="2021-06-01T12:30:00")],
        },
        description="# Demo\n\nSome *words*.",
        description_content_type="text/markdown",
        keywords="demo,test",
        home_page="https://demo.example.org",
        docs_url="",
        project_urls={"Documentation": "https://docs.example.org"},
        author="Ada Lovelace",
        author_email="ada@example.org",
        license="MIT license",
        classifiers=[
            "Programming Language :: Python :: 3.12",
            "Programming Language :: Cython",
            "License :: OSI Approved :: MIT License",
        ],
    )
    result = import_document(db, document)
    assert (result.new_project, result.releases_added, result.files_added) == (True, 2, 2)

    package = get_package(db, "demo-project")
    assert package.name == "Demo_Project"
    assert package.summary == "The Demo_Project project"
    assert package.description == "# Demo\n\nSome *words*."
    assert package.description_content_type == "text/markdown"
    assert package.description_html is not None
    assert "<h1" in package.description_html
    assert "<p>Some <em>words</em>.</p>" in package.description_html
    assert package.keywords == "demo,test"
    assert package.home_page == "https://demo.example.org"
    assert package.docs_url == "https://docs.example.org"
    assert package.package_url == "https://pypi.org/project/Demo_Project/"
    assert (package.author_name, package.author_email) == ("Ada Lovelace", "ada@example.org")
    assert package.license_id == "MIT"
    assert [language.id for language in package.languages] == ["Cython", "Python 3"]
    assert package.last_updated == dt.datetime(2021, 6, 1, 12, 30)


def test_the_author_falls_back_to_the_maintainer(db: Session) -> None:
    document = simple_document(
        author="", author_email="", maintainer="Team Demo", maintainer_email="team@example.org"
    )
    import_document(db, document)
    package = get_package(db, "demo")
    assert (package.author_name, package.author_email) == ("Team Demo", "team@example.org")
    (link,) = db.scalars(sa.select(Maintainer).where(Maintainer.package_id == "demo"))
    assert (link.user.name, link.user.email, link.role) == (
        "Team Demo",
        "team@example.org",
        Role.MAINTAINER,
    )


# --- releases ---------------------------------------------------------------------------------


def test_releases_are_newest_first_in_pep440_order_and_keep_pre_releases(db: Session) -> None:
    releases = {version: [pypi_file(f"demo-{version}.tar.gz")] for version in ("0.9", "1.10")}
    releases.update({"1.9": [], "2.0b1": [pypi_file("demo-2.0b1.tar.gz")]})
    import_document(db, pypi_document("demo", releases, version="1.10"))
    package = get_package(db, "demo")
    assert [release.version for release in package.releases] == ["2.0b1", "1.10", "1.9", "0.9"]
    beta = package.releases[0]
    assert beta.is_prerelease
    assert (beta.major_ver, beta.minor_ver, beta.build_ver) == (2, 0, 0)
    latest = latest_release(package)
    assert latest is not None and latest.version == "1.10"


def test_release_columns_come_from_its_files(db: Session) -> None:
    files = [
        pypi_file("demo-1.0-py3-none-any.whl", uploaded="2020-03-02T08:00:00", size=300),
        pypi_file(
            "demo-1.0.tar.gz", uploaded="2020-03-01T09:00:00", size=200, requires_python=">=3.8"
        ),
    ]
    import_document(db, pypi_document("demo", {"1.0": files}))
    (release,) = get_package(db, "demo").releases
    assert release.size == 500
    assert release.created_date == dt.datetime(2020, 3, 1, 9, 0)
    assert release.url == "https://pypi.org/project/demo/1.0/"
    assert release.requires_python == ">=3.8"
    assert not release.yanked


def test_the_newest_release_takes_requires_python_from_info_when_files_lack_it(
    db: Session,
) -> None:
    releases = {"1.0": [pypi_file("demo-1.0.tar.gz")], "2.0": [pypi_file("demo-2.0.tar.gz")]}
    import_document(db, pypi_document("demo", releases, requires_python=">=3.10"))
    by_version = {r.version: r for r in get_package(db, "demo").releases}
    assert by_version["2.0"].requires_python == ">=3.10"
    assert by_version["1.0"].requires_python is None


def test_a_release_without_files_is_still_created(db: Session) -> None:
    import_document(db, pypi_document("demo", {"0.1": [], "1.0": [pypi_file("demo-1.0.tar.gz")]}))
    empty = db.scalars(sa.select(Release).where(Release.version == "0.1")).one()
    assert (empty.size, empty.files) == (0, [])
    assert empty.created_date is not None


def test_a_release_whose_files_are_all_yanked_is_yanked(db: Session) -> None:
    files = [pypi_file("demo-1.0.tar.gz", yanked=True, yanked_reason="broken")]
    import_document(db, pypi_document("demo", {"1.0": files}))
    (release,) = get_package(db, "demo").releases
    assert (release.yanked, release.yanked_reason) == (True, "broken")


def test_a_per_version_document_brings_its_urls(db: Session) -> None:
    document = simple_document()
    del document["releases"]
    result = import_document(db, document)
    assert (result.releases_added, result.files_added) == (1, 1)


# --- files ------------------------------------------------------------------------------------


def test_files_keep_pypi_s_metadata_and_are_known_by_url_only(db: Session) -> None:
    entry = pypi_file("demo-1.0-py3-none-any.whl", uploaded="2020-01-02T03:04:05.678901Z")
    entry["digests"]["blake2b_256"] = "ab" * 32
    entry["requires_python"] = ">=3.9"
    import_document(db, pypi_document("demo", {"1.0": [entry]}))
    file = db.scalars(sa.select(ReleaseFile)).one()
    assert file.filename == "demo-1.0-py3-none-any.whl"
    assert (file.packagetype, file.python_version, file.size) == ("bdist_wheel", "py3", 1000)
    assert file.sha256_digest == entry["digests"]["sha256"]
    assert file.md5_digest == entry["digests"]["md5"]
    assert file.blake2_256_digest == "ab" * 32
    assert file.requires_python == ">=3.9"
    assert file.created_date == dt.datetime(2020, 1, 2, 3, 4, 5, 678901)
    assert file.url == "https://files.example.org/demo-1.0-py3-none-any.whl"
    assert file.storage_path is None
    assert file.uploaded_by is None
    # As uploads do: the registry keeps every filename so that it is never reused.
    assert db.scalars(sa.select(FileRegistry.filename)).all() == [file.filename]


def test_unreadable_file_entries_are_skipped_and_reported(db: Session) -> None:
    no_digest = pypi_file("demo-1.0-py3-none-any.whl")
    no_digest["digests"] = {"md5": no_digest["md5_digest"]}
    traversal = pypi_file("../demo-1.0.zip")
    files = [pypi_file("demo-1.0.tar.gz"), no_digest, traversal, {"size": 3}]
    result = import_document(db, pypi_document("demo", {"1.0": files}))
    assert result.files_added == 1
    assert [(s.item, s.reason) for s in result.skipped] == [
        ("demo-1.0-py3-none-any.whl", "the entry has no valid sha256 digest"),
        ("../demo-1.0.zip", "the filename is not a plain file name"),
        ("(no filename)", "the entry has no filename"),
    ]


def test_a_filename_or_digest_listed_twice_is_skipped_and_counted(db: Session) -> None:
    import_document(db, pypi_document("first", {"1.0": [pypi_file("shared-1.0.tar.gz")]}))
    second = pypi_document(
        "second",
        {
            "1.0": [
                pypi_file("shared-1.0.tar.gz", content="other bytes"),
                pypi_file("second-1.0.tar.gz", content="shared-1.0.tar.gz"),
                pypi_file("second-1.0-py3-none-any.whl"),
            ]
        },
    )
    result = import_document(db, second)
    assert result.files_added == 1
    assert [s.item for s in result.skipped] == ["shared-1.0.tar.gz", "second-1.0.tar.gz"]
    assert "already on the index" in result.skipped[0].reason
    assert "sha256" in result.skipped[1].reason
    shared = db.scalars(sa.select(ReleaseFile).where(ReleaseFile.filename == "shared-1.0.tar.gz"))
    assert shared.one().release.package_id == "first"
    # The release stays, with the one file that was its own.
    (release,) = get_package(db, "second").releases
    assert [f.filename for f in release.files] == ["second-1.0-py3-none-any.whl"]
    assert release.size == 1000


def test_the_same_file_twice_in_one_document_is_taken_once(db: Session) -> None:
    twice = {"1.0": [pypi_file("demo-1.0.tar.gz")], "1.0.0": [pypi_file("demo-1.0.tar.gz")]}
    result = import_document(db, pypi_document("demo", twice))
    assert (result.releases_added, result.files_added, len(result.skipped)) == (2, 1, 1)


def test_a_removed_filename_is_never_reused(db: Session) -> None:
    db.add(FileRegistry(filename="demo-1.0.tar.gz"))
    db.flush()
    result = import_document(db, simple_document())
    assert result.files_added == 0
    assert "never reused" in result.skipped[0].reason


# --- journal, errors, idempotency -------------------------------------------------------------


def test_every_change_is_journaled_and_the_serial_follows(db: Session) -> None:
    before = journal.last_serial(db)
    releases = {"1.0": [pypi_file("demo-1.0.tar.gz"), pypi_file("demo-1.0-py3-none-any.whl")]}
    releases["0.1"] = []
    import_document(db, pypi_document("demo", releases, version="1.0"))
    entries = db.scalars(
        sa.select(JournalEntry).where(JournalEntry.id > before).order_by(JournalEntry.id)
    ).all()
    assert [(e.action, e.version, e.filename) for e in entries] == [
        (journal.Action.CREATE, None, None),
        (journal.Action.NEW_RELEASE, "0.1", None),
        (journal.Action.NEW_RELEASE, "1.0", None),
        (journal.Action.ADD_FILE, "1.0", "demo-1.0.tar.gz"),
        (journal.Action.ADD_FILE, "1.0", "demo-1.0-py3-none-any.whl"),
    ]
    assert {e.package_id for e in entries} == {"demo"}
    assert get_package(db, "demo").last_serial == entries[-1].id


def test_a_document_without_a_name_is_refused(db: Session) -> None:
    with pytest.raises(DocumentError, match=r"info\.name"):
        import_document(db, {"info": {"summary": "nameless"}, "releases": {}})
    with pytest.raises(DocumentError, match=r"info\.name"):
        import_document(db, {"releases": {}})
    with pytest.raises(DocumentError, match="not a valid project name"):
        import_document(db, simple_document("-bad name-"))
    assert db.scalars(sa.select(Package)).all() == []


def documents() -> list[dict[str, Any]]:
    releases = {
        "1.0": [pypi_file("alpha-1.0.tar.gz"), pypi_file("alpha-1.0-py3-none-any.whl")],
        "2.0b1": [pypi_file("alpha-2.0b1.tar.gz", uploaded="2021-01-01T00:00:00")],
        "0.1": [],
    }
    alpha = pypi_document(
        "alpha",
        releases,
        version="1.0",
        description="Alpha\n=====\n\nreST *text*.",
        author="Ann; Bob",
        author_email="ann@example.org, bob@example.org",
        maintainer="Cy",
        maintainer_email="cy@example.org",
        license="BSD",
        classifiers=["Programming Language :: Python :: 3", "Programming Language :: C"],
    )
    beta = pypi_document(
        "Beta",
        {"3.0": [pypi_file("beta-3.0.tar.gz"), pypi_file("alpha-1.0.tar.gz")]},
        author="Ann",
        author_email="ANN@example.org",
        license_expression="Apache-2.0",
        classifiers=["Programming Language :: Python :: 3"],
    )
    return [alpha, beta]


def test_importing_the_same_documents_again_changes_no_row(db: Session) -> None:
    first = [import_document(db, document) for document in documents()]
    db.flush()
    assert sum(result.files_added for result in first) == 4
    before = rows_of(db)
    assert all(before[table] for table in CHECKED_TABLES)
    db.expire_all()

    again = [import_document(db, document) for document in documents()]
    db.flush()
    after = rows_of(db)
    assert {t: len(rows) for t, rows in after.items()} == {t: len(r) for t, r in before.items()}
    assert hashlib.sha256(repr(after).encode()).digest() == (
        hashlib.sha256(repr(before).encode()).digest()
    )
    assert [result_counts(result) for result in again] == [(0, 0, 3, 0), (0, 0, 1, 0)]


def result_counts(result: ImportResult) -> tuple[int, int, int, int]:
    return (result.releases_added, result.files_added, result.files_present, result.users_added)


def test_a_newer_document_adds_only_what_is_new_and_refreshes_the_project(db: Session) -> None:
    import_document(db, simple_document(summary="Old summary"))
    serial = get_package(db, "demo").last_serial
    newer = pypi_document(
        "demo",
        {
            "1.0": [pypi_file("demo-1.0.tar.gz")],
            "1.1": [pypi_file("demo-1.1.tar.gz", uploaded="2022-02-02T00:00:00")],
        },
        summary="New summary",
    )
    result = import_document(db, newer)
    assert result_counts(result) == (1, 1, 1, 0)
    package = get_package(db, "demo")
    assert package.summary == "New summary"
    assert package.last_updated == dt.datetime(2022, 2, 2)
    assert package.last_serial > serial


def _release_row(db: Session, version: str) -> ReleaseMetadata | None:
    release = db.scalars(sa.select(Release).where(Release.version == version)).one()
    return release.core_metadata


def test_each_release_keeps_the_metadata_its_own_document_has(db: Session) -> None:
    files = {v: [pypi_file(f"demo-{v}.tar.gz")] for v in ("1.0", "2.0")}
    project = pypi_document(
        "demo",
        files,
        summary="Two",
        description="# Two",
        description_content_type="text/markdown",
        license_expression="MIT",
        license_files=["LICENSE"],
        project_urls={"Source": "https://two.example/", "Docs": "UNKNOWN"},
        docs_url="https://docs.two.example/",
        keywords="b, c",
        requires_dist=["attrs"],
    )
    import_document(db, project)
    # Only the release info describes gets a row: 1.0's metadata is not in this document.
    assert _release_row(db, "1.0") is None
    row = _release_row(db, "2.0")
    assert row is not None
    assert (row.summary, row.license_expression, row.license_files) == ("Two", "MIT", ["LICENSE"])
    assert row.description_html is not None and ">Two<" in row.description_html
    assert row.project_urls == {"Source": "https://two.example/"}
    assert (row.docs_url, row.keywords, row.requires_dist) == (
        "https://docs.two.example/",
        ["b", "c"],
        ["attrs"],
    )

    # The per-version document of 1.0 (no "releases", its files in "urls") fills 1.0's row
    # and leaves the project, which shows 2.0, as it was.
    old = pypi_document("demo", {"1.0": files["1.0"]}, summary="One", license="BSD")
    del old["releases"]
    import_document(db, old)

    row = _release_row(db, "1.0")
    assert row is not None
    assert (row.summary, row.license, row.license_name) == ("One", "BSD", "BSD-3-Clause")
    package = db.get(Package, "demo")
    assert package is not None and package.summary == "Two"
    # Importing again changes nothing that is there.
    import_document(db, pypi_document("demo", files, summary="Changed"))
    second = _release_row(db, "2.0")
    assert second is not None and second.summary == "Two"
