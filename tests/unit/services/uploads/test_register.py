"""services.uploads.register: what one accepted file writes, and that a refused one writes nothing.

Each check's own rules are tested beside its module (test_metadata, test_incoming,
test_filenames, test_permission, test_duplicates); here they run together, in PyPI's order.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from packaging.metadata import RawMetadata
from sqlalchemy.orm import Session

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.package_classifier import PackageClassifier
from wheelyard.data.release import Release
from wheelyard.data.user import User
from wheelyard.services import audit, journal
from wheelyard.services.accounts import tokens
from wheelyard.services.audit import Origin
from wheelyard.services.ops import row_counts
from wheelyard.services.projects import readme
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.uploads import policy
from wheelyard.services.uploads.auth import Uploader
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import ClaimedDigests, IncomingFile
from wheelyard.services.uploads.metadata import metadata_from_archive
from wheelyard.services.uploads.policy import IMPORT_POLICY
from wheelyard.services.uploads.register import Outcome, Registered, register_file
from wheelyard.storage.base import content_path
from wheelyard.storage.local import LocalStorage

ORIGIN = Origin(ip_address="192.0.2.1", user_agent="twine/7.0.0")
LIB = Project(
    "tiny-lib",
    "1.0",
    requires_python=">=3.9",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "License :: OSI Approved :: MIT License",
    ],
    license_expression="MIT",
    description="Tiny lib\n========\n\nIt is *tiny*.\n",
)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def ada(make: Factory) -> User:
    return make.user(name="Ada", email="ada@example.com")


def incoming(dist: Dist, **changes: Any) -> IncomingFile:
    is_wheel = dist.filename.endswith(".whl")
    file = IncomingFile(
        filename=dist.filename,
        content=io.BytesIO(dist.content),
        filetype="bdist_wheel" if is_wheel else "sdist",
        pyversion="py3" if is_wheel else "source",
        claimed=ClaimedDigests(
            sha256=dist.sha256,
            blake2_256=hashlib.blake2b(dist.content, digest_size=32).hexdigest(),
        ),
    )
    return replace(file, **changes)


def metadata_of(dist: Dist, **changes: Any) -> RawMetadata:
    raw = metadata_from_archive(dist.metadata.encode())
    raw.update(changes)  # type: ignore[typeddict-item]
    return raw


def upload(
    db: Session,
    storage: LocalStorage,
    dist: Dist,
    uploader: Uploader | None,
    *,
    metadata: RawMetadata | None = None,
    **changes: Any,
) -> Registered:
    return register_file(
        db,
        storage,
        incoming(dist, **changes),
        metadata=metadata if metadata is not None else metadata_of(dist),
        uploader=uploader,
        origin=ORIGIN,
    )


Snapshot = tuple[dict[str, int], list[str]]


def snapshot(db: Session, storage: LocalStorage) -> Snapshot:
    db.flush()
    return row_counts.row_counts(db), sorted(storage.iter_paths())


def refused(
    db: Session,
    storage: LocalStorage,
    attempt: Callable[[], object],
) -> UploadError:
    """The refusal ``attempt`` ends in, having checked that it changed nothing."""
    before = snapshot(db, storage)
    with pytest.raises(UploadError) as caught:
        attempt()
    assert snapshot(db, storage) == before
    return caught.value


def rows(db: Session, model: type[Any]) -> list[Any]:
    return list(db.scalars(sa.select(model)))


# --- a first upload ---------------------------------------------------------------------------


def test_first_upload_creates_the_project_with_its_uploader_as_owner(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    dist = wheel(LIB)
    result = upload(db, storage, dist, Uploader(ada))

    assert (result.outcome, result.new_project, result.new_release) == (Outcome.STORED, True, True)
    package = db.get(Package, "tiny-lib")
    assert package is not None
    assert package.name == "tiny-lib"
    assert package.summary == LIB.summary
    assert package.description == LIB.description
    assert package.description_content_type == "text/x-rst"
    assert package.description_html == readme.render(LIB.description, "text/x-rst")
    assert "<em>tiny</em>" in (package.description_html or "")
    assert package.author_name == "Test Author"
    assert package.author_email == "author@example.com"
    assert package.last_updated is not None
    assert [(link.user_id, link.role) for link in rows(db, Maintainer)] == [(ada.id, Role.OWNER)]
    [release] = package.releases
    assert (release.version, release.requires_python, release.size) == (
        "1.0",
        ">=3.9",
        len(dist.content),
    )


def test_the_file_row_carries_digests_computed_from_the_bytes(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    dist = wheel(LIB)
    release_file = upload(db, storage, dist, Uploader(ada)).release_file

    blake2 = hashlib.blake2b(dist.content, digest_size=32).hexdigest()
    assert release_file.filename == dist.filename
    assert release_file.packagetype == "bdist_wheel"
    assert release_file.python_version == "py3"
    assert release_file.size == len(dist.content)
    assert release_file.sha256_digest == dist.sha256
    assert release_file.blake2_256_digest == blake2
    assert release_file.md5_digest == hashlib.md5(dist.content, usedforsecurity=False).hexdigest()
    assert release_file.requires_python == ">=3.9"
    assert release_file.uploaded_by == ada.id
    assert release_file.storage_path == content_path(blake2, dist.filename)
    assert [row.filename for row in rows(db, FileRegistry)] == [dist.filename]


def test_the_wheel_and_its_metadata_are_stored_for_pep_658(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    dist = wheel(LIB)
    release_file = upload(db, storage, dist, Uploader(ada)).release_file

    assert release_file.storage_path is not None
    with storage.open(release_file.storage_path) as blob:
        assert blob.read() == dist.content
    metadata_path = content_path(
        release_file.blake2_256_digest or "", dist.filename + METADATA_SUFFIX
    )
    with storage.open(metadata_path) as blob:
        stored = blob.read()
    assert stored == dist.metadata.encode()
    assert release_file.metadata_sha256 == hashlib.sha256(stored).hexdigest()


def test_an_sdist_has_no_separate_metadata(db: Session, storage: LocalStorage, ada: User) -> None:
    dist = sdist(LIB)
    release_file = upload(db, storage, dist, Uploader(ada)).release_file
    assert (release_file.packagetype, release_file.python_version) == ("sdist", "source")
    assert release_file.metadata_sha256 is None
    assert sorted(storage.iter_paths()) == [release_file.storage_path]


def test_classifiers_fill_languages_and_license(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    from wheelyard.services.projects.classifiers import languages_from_classifiers
    from wheelyard.services.projects.licenses import license_name

    upload(db, storage, wheel(LIB), Uploader(ada))
    package = db.get(Package, "tiny-lib")
    assert package is not None
    expected_languages = languages_from_classifiers(list(LIB.classifiers))
    assert expected_languages  # the fixture's classifiers name at least one language
    assert [language.id for language in package.languages] == sorted(expected_languages)
    expected_license = license_name(
        expression="MIT", license_text=None, classifiers=list(LIB.classifiers)
    )
    assert expected_license is not None
    assert package.license_id == expected_license
    stored = db.scalars(
        sa.select(PackageClassifier.classifier).where(PackageClassifier.package_id == package.id)
    )
    assert sorted(stored) == sorted(LIB.classifiers)


def test_journal_and_audit_record_the_upload(db: Session, storage: LocalStorage, ada: User) -> None:
    dist = wheel(LIB)
    upload(db, storage, dist, Uploader(ada))

    entries = [
        (entry.action, entry.version, entry.filename, entry.user_id)
        for entry in db.scalars(sa.select(JournalEntry).order_by(JournalEntry.id))
    ]
    assert entries == [
        (journal.Action.CREATE, None, None, ada.id),
        (journal.Action.NEW_RELEASE, "1.0", None, ada.id),
        (journal.Action.ADD_FILE, "1.0", dist.filename, ada.id),
    ]
    package = db.get(Package, "tiny-lib")
    assert package is not None
    assert package.last_serial == max(entry.id for entry in rows(db, JournalEntry))
    [event] = rows(db, AuditEvent)
    assert (event.action, event.user_id, event.package_id) == (
        audit.Action.UPLOAD,
        ada.id,
        "tiny-lib",
    )
    assert (event.ip_address, event.user_agent) == (ORIGIN.ip_address, ORIGIN.user_agent)
    assert event.detail == f"{dist.filename} (password)"


def test_a_token_upload_is_audited_as_such(db: Session, storage: LocalStorage, ada: User) -> None:
    token, _secret = tokens.create_token(db, ada, description="ci")
    upload(db, storage, wheel(LIB), Uploader(ada, token))
    [event] = rows(db, AuditEvent)
    assert event.detail == f"{wheel(LIB).filename} (API token {token.id})"


# --- more files -------------------------------------------------------------------------------


def test_a_second_file_joins_the_release(db: Session, storage: LocalStorage, ada: User) -> None:
    first, second = wheel(LIB), sdist(LIB)
    upload(db, storage, first, Uploader(ada))
    result = upload(db, storage, second, Uploader(ada))

    assert (result.new_project, result.new_release) == (False, False)
    [release] = rows(db, Release)
    assert sorted(file.filename for file in release.files) == sorted(
        [first.filename, second.filename]
    )
    assert release.size == len(first.content) + len(second.content)
    actions = [entry.action for entry in rows(db, JournalEntry)]
    assert actions.count(journal.Action.NEW_RELEASE) == 1
    assert actions.count(journal.Action.ADD_FILE) == 2


def test_a_release_takes_no_file_of_its_version_written_another_way(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    with pytest.raises(
        UploadError, match=re.escape("Version '1.0.0' is release '1.0' written another way")
    ):
        upload(db, storage, sdist(replace(LIB, version="1.0.0")), Uploader(ada))
    [release] = rows(db, Release)
    assert [file.filename for file in release.files] == ["tiny_lib-1.0-py3-none-any.whl"]


def test_versions_equal_by_pep_440_share_a_release_when_imported(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    dist = sdist(replace(LIB, version="1.0.0"))
    register_file(
        db, storage, incoming(dist), metadata=None, uploader=Uploader(ada), policy=IMPORT_POLICY
    )
    [release] = rows(db, Release)
    assert release.version == "1.0"
    assert len(release.files) == 2


def test_a_release_keeps_one_wheel_per_set_of_tags_even_after_a_deletion(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    first = wheel(LIB)
    upload(db, storage, first, Uploader(ada))
    # The same tags under a build number: refused while the first is there...
    built = wheel(LIB, tag="1-py3-none-any")
    with pytest.raises(UploadError, match="already has a wheel for these tags"):
        upload(db, storage, built, Uploader(ada))
    # ...and after it was deleted, when the registry still names it.
    [release] = rows(db, Release)
    db.delete(release.files[0])
    db.flush()
    db.expire_all()
    with pytest.raises(UploadError, match="already has a wheel for these tags"):
        upload(db, storage, built, Uploader(ada))
    # Other tags are another wheel.
    upload(db, storage, wheel(LIB, tag="py2.py3-none-any"), Uploader(ada))


def test_a_license_file_must_be_in_the_archive(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    declared = replace(LIB, extra_headers=["License-File: LICENSE.txt"])
    with pytest.raises(UploadError, match=re.escape("License-File LICENSE.txt does not exist")):
        upload(db, storage, wheel(declared), Uploader(ada))
    assert rows(db, Release) == []
    # Before 2.4, License-File meant something else (setuptools wrote it into 2.1): taken.
    legacy = replace(declared, license_expression=None, metadata_version="2.1")
    upload(db, storage, wheel(legacy), Uploader(ada))


def test_older_metadata_may_not_carry_a_license_expression(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    relabelled = replace(LIB, metadata_version="2.1")
    with pytest.raises(UploadError, match=re.escape("introduced in metadata version 2.4")):
        upload(db, storage, wheel(relabelled), Uploader(ada))
    assert rows(db, Release) == []


def test_a_newer_release_updates_the_project_and_an_older_one_does_not(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    upload(db, storage, wheel(replace(LIB, version="2.0", summary="Second")), Uploader(ada))
    upload(db, storage, wheel(replace(LIB, version="1.5", summary="Backport")), Uploader(ada))
    upload(db, storage, wheel(replace(LIB, version="3.0b1", summary="Preview")), Uploader(ada))
    package = db.get(Package, "tiny-lib")
    assert package is not None
    assert package.summary == "Second"
    assert [release.version for release in package.releases] == ["3.0b1", "2.0", "1.5", "1.0"]


def test_the_same_file_again_changes_nothing(db: Session, storage: LocalStorage, ada: User) -> None:
    dist = wheel(LIB)
    first = upload(db, storage, dist, Uploader(ada))
    before = snapshot(db, storage)
    again = upload(db, storage, dist, Uploader(ada))
    assert again.outcome is Outcome.ALREADY_PRESENT
    assert again.release_file.id == first.release_file.id
    assert snapshot(db, storage) == before


def test_a_maintainer_may_upload(
    db: Session, storage: LocalStorage, ada: User, make: Factory
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    bob = make.user(email="bob@example.com")
    db.add(Maintainer(user_id=bob.id, package_id="tiny-lib", role=Role.MAINTAINER))
    result = upload(db, storage, sdist(LIB), Uploader(bob))
    assert result.release_file.uploaded_by == bob.id
    owners = [(link.user_id, link.role) for link in rows(db, Maintainer)]
    assert sorted(owners) == sorted([(ada.id, Role.OWNER), (bob.id, Role.MAINTAINER)])


def test_a_token_scoped_to_the_project_may_upload(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    token, _secret = tokens.create_token(db, ada, description="ci", package_id="tiny-lib")
    assert upload(db, storage, sdist(LIB), Uploader(ada, token)).outcome is Outcome.STORED


# --- import (no uploader, metadata from the file) --------------------------------------------


def test_an_import_reads_the_metadata_from_the_file(db: Session, storage: LocalStorage) -> None:
    dist = sdist(LIB)
    result = register_file(
        db,
        storage,
        IncomingFile(dist.filename, io.BytesIO(dist.content), "sdist"),
        metadata=None,
        uploader=None,
        policy=IMPORT_POLICY,
    )
    assert result.outcome is Outcome.STORED
    assert result.release_file.uploaded_by is None
    assert rows(db, Maintainer) == []
    package = db.get(Package, "tiny-lib")
    assert package is not None
    assert package.summary == LIB.summary
    [event] = rows(db, AuditEvent)
    assert event.detail == f"{dist.filename} (command line import)"


def test_an_import_spares_old_files_the_newer_pypi_rules(
    db: Session, storage: LocalStorage
) -> None:
    # An old-style sdist name (not PEP 625), a standard-library name, a retired classifier.
    project = Project("Json", "1.0", classifiers=["Natural Language :: Ukranian"])
    dist = sdist(project)
    old_name = "Json-1.0.tar.gz"
    result = register_file(
        db,
        storage,
        IncomingFile(old_name, io.BytesIO(dist.content), "sdist"),
        metadata=None,
        uploader=None,
        policy=IMPORT_POLICY,
    )
    assert result.release_file.filename == old_name


# --- refusals, in the order PyPI checks -------------------------------------------------------


def test_another_users_project_is_refused(
    db: Session, storage: LocalStorage, ada: User, make: Factory
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    mallory = make.user(email="mallory@example.com")
    error = refused(db, storage, lambda: upload(db, storage, sdist(LIB), Uploader(mallory)))
    assert error.status == 403
    assert error.message == (
        "The user 'mallory@example.com' isn't allowed to upload to project 'tiny-lib'."
    )


def test_a_standard_library_name_is_refused_for_a_new_project(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    dist = wheel(Project("asyncio", "1.0"))
    error = refused(db, storage, lambda: upload(db, storage, dist, Uploader(ada)))
    assert error.message == (
        "The name 'asyncio' isn't allowed: it is a module of the Python standard library."
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"filetype": "bdist_egg"}, "Invalid value for filetype. Error: Use a known file type"),
        ({"claimed": ClaimedDigests()}, "Include at least one message digest."),
        (
            {"filename": "tiny_lib-1.0.tar.gz"},
            "Invalid distribution file: 'tiny_lib-1.0.tar.gz' is not of filetype 'bdist_wheel'.",
        ),
        (
            {"filename": "tiny_lib-2.0-py3-none-any.whl"},
            "Version in filename should be '1.0' not '2.0'.",
        ),
        (
            {"claimed": ClaimedDigests(sha256="0" * 64)},
            "The digest supplied does not match a digest calculated from the uploaded file.",
        ),
    ],
)
def test_a_refusal_of_the_files_fields_changes_nothing(
    db: Session, storage: LocalStorage, ada: User, changes: dict[str, Any], message: str
) -> None:
    error = refused(db, storage, lambda: upload(db, storage, wheel(LIB), Uploader(ada), **changes))
    assert error.status == 400
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("metadata_changes", "changes", "message"),
    [
        ({"summary": "x" * 513}, {"filetype": "bdist_egg"}, "Invalid value for summary."),
        ({}, {"filetype": "bdist_egg", "filename": "x.egg"}, "Invalid value for filetype."),
        (
            {},
            {"filename": "tiny_lib-2.0-py3-none-any.whl", "claimed": ClaimedDigests(md5="0" * 32)},
            "Version in filename should be",
        ),
    ],
)
def test_the_checks_run_in_pypis_order(
    db: Session,
    storage: LocalStorage,
    ada: User,
    metadata_changes: dict[str, Any],
    changes: dict[str, Any],
    message: str,
) -> None:
    dist = wheel(LIB)
    error = refused(
        db,
        storage,
        lambda: upload(
            db,
            storage,
            dist,
            Uploader(ada),
            metadata=metadata_of(dist, **metadata_changes),
            **changes,
        ),
    )
    assert error.message.startswith(message)


def test_a_file_over_the_size_limit_is_refused(
    db: Session, storage: LocalStorage, ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy, "MAX_FILE_SIZE", 100)
    error = refused(db, storage, lambda: upload(db, storage, wheel(LIB), Uploader(ada)))
    assert error.message == "File too large. Limit for project 'tiny-lib' is 0 MB."


def test_the_same_filename_with_other_content_is_refused(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    upload(db, storage, wheel(LIB), Uploader(ada))
    changed = wheel(replace(LIB, summary="Changed"))
    error = refused(db, storage, lambda: upload(db, storage, changed, Uploader(ada)))
    assert error.message.startswith("File already exists")
    assert repr(changed.filename) in error.message


def test_only_one_sdist_per_release(db: Session, storage: LocalStorage, ada: User) -> None:
    upload(db, storage, sdist(LIB), Uploader(ada))
    other = sdist(replace(LIB, version="1.0.0"))
    error = refused(db, storage, lambda: upload(db, storage, other, Uploader(ada)))
    assert error.message == "Only one sdist may be uploaded per release."


def test_an_archive_naming_another_project_is_refused(
    db: Session, storage: LocalStorage, ada: User
) -> None:
    # The form says tiny-lib 1.0; the METADATA inside says tiny-lib 9.9.
    inside = wheel(replace(LIB, version="9.9"))
    renamed = Dist(
        filename=wheel(LIB).filename,
        content=_rename_dist_info(inside.content, "tiny_lib-9.9", "tiny_lib-1.0"),
        metadata=inside.metadata,
    )
    error = refused(
        db,
        storage,
        lambda: upload(db, storage, renamed, Uploader(ada), metadata=metadata_of(wheel(LIB))),
    )
    assert error.message.startswith(
        "Invalid distribution file. tiny_lib-1.0.dist-info/METADATA names"
    )


def _rename_dist_info(content: bytes, old: str, new: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename.replace(old, new), source.read(info))
    return buffer.getvalue()


def test_an_unsafe_archive_is_refused(db: Session, storage: LocalStorage, ada: User) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny_lib-1.0.dist-info/METADATA", LIB.core_metadata())
        archive.writestr("../../evil.py", "")
    evil = Dist(wheel(LIB).filename, buffer.getvalue(), LIB.core_metadata())
    error = refused(db, storage, lambda: upload(db, storage, evil, Uploader(ada)))
    assert error.message == (
        "Invalid distribution file. The archive member '../../evil.py' reaches outside the archive."
    )


def test_an_import_of_a_damaged_file_is_refused(db: Session, storage: LocalStorage) -> None:
    dist = wheel(LIB)
    error = refused(
        db,
        storage,
        lambda: register_file(
            db,
            storage,
            IncomingFile(dist.filename, io.BytesIO(dist.content[:100]), "bdist_wheel"),
            metadata=None,
            uploader=None,
            policy=IMPORT_POLICY,
        ),
    )
    assert error.message.startswith("Invalid distribution file. The archive cannot be read")
