"""The legacy upload API over HTTP: what twine sends, what is stored, and every refusal.

Each refusal shows its status, its message, and that nothing was stored: no row in any
table (failed password checks excepted, which the rate limits count) and no blob.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.api import upload as upload_api
from wheelyard.data.api_token import TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import rate_limit, tokens
from wheelyard.services.ops import row_counts
from wheelyard.services.uploads import policy, register
from wheelyard.storage.base import FileStorage, StorageError

LIB = Project("tiny-lib", "1.0", requires_python=">=3.9")
APP = Project("tiny-app", "0.1", requires_dist=["tiny-lib>=1.0"])

ADA = basic_auth("ada@example.com", PASSWORD)


class Uploads:
    """Posts distributions the way twine does, as Ada unless told otherwise."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(
        self,
        dist: Dist,
        *,
        auth: dict[str, str] | None = None,
        change: Callable[[dict[str, list[str]]], None] | None = None,
        filename: str | None = None,
        content: bytes | None = None,
        path: str = "/legacy/",
    ) -> httpx.Response:
        fields = twine_fields(dist)
        if change is not None:
            change(fields)
        files = {
            "content": (
                filename or dist.filename,
                dist.content if content is None else content,
                "application/octet-stream",
            )
        }
        headers = ADA if auth is None else auth
        return self.client.post(path, data=fields, files=files, headers=headers)


@pytest.fixture
def uploads_as(client: TestClient, ada: User) -> Uploads:
    return Uploads(client)


Snapshot = tuple[dict[str, int], list[str]]


def snapshot(db: Session, storage: FileStorage) -> Snapshot:
    counts = row_counts.row_counts(db)
    counts.pop("audit")  # failed logins are recorded on purpose; checked where they happen
    return counts, sorted(storage.iter_paths())


@pytest.fixture
def unchanged(db: Session, storage: FileStorage) -> Iterator[None]:
    """Fails the test if it leaves any row (but failed-login audit rows) or blob behind."""
    before = snapshot(db, storage)
    yield
    assert snapshot(db, storage) == before
    actions = set(db.scalars(sa.select(AuditEvent.action)))
    assert actions <= {audit.Action.LOGIN_FAILED}


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(message), response.text


# --- accepted ---------------------------------------------------------------------------------


def test_an_upload_is_served_at_once(uploads_as: Uploads, client: TestClient) -> None:
    dist = wheel(LIB)
    response = uploads_as.post(dist)
    assert response.status_code == 200, response.text
    assert response.text == f"Uploaded {dist.filename}.\n"

    page = client.get(
        "/simple/tiny-lib/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    [file] = page.json()["files"]
    assert file["filename"] == dist.filename
    assert file["hashes"] == {"sha256": dist.sha256}
    assert file["requires-python"] == ">=3.9"
    metadata_hash = hashlib.sha256(dist.metadata.encode()).hexdigest()
    assert file["core-metadata"] == {"sha256": metadata_hash}
    url = page.url.join(file["url"])
    assert client.get(url).content == dist.content
    assert client.get(str(url) + ".metadata").content == dist.metadata.encode()

    # The page was cached above; the next upload shows on it at once.
    assert uploads_as.post(sdist(LIB)).status_code == 200
    page = client.get(
        "/simple/tiny-lib/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert len(page.json()["files"]) == 2


def test_the_first_uploader_owns_the_new_project(
    uploads_as: Uploads, db: Session, ada: User
) -> None:
    assert uploads_as.post(sdist(LIB)).status_code == 200
    links = db.scalars(sa.select(Maintainer)).all()
    assert [(link.user_id, link.package_id, link.role) for link in links] == [
        (ada.id, "tiny-lib", Role.OWNER)
    ]
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == audit.Action.UPLOAD)).one()
    assert (event.user_id, event.user_agent) == (ada.id, "testclient")


def test_the_same_file_again_is_accepted_and_changes_nothing(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    dist = wheel(LIB)
    assert uploads_as.post(dist).status_code == 200
    before = snapshot(db, storage)
    response = uploads_as.post(dist)
    assert response.status_code == 200
    assert response.text == f"{dist.filename} is already here; nothing changed.\n"
    assert snapshot(db, storage) == before


def test_a_token_uploads_and_the_url_may_lack_its_slash(
    client: TestClient, db: Session, ada: User
) -> None:
    _token, secret = tokens.create_token(db, ada, description="ci")
    response = Uploads(client).post(
        wheel(APP), auth=basic_auth("__token__", secret), path="/legacy"
    )
    assert response.status_code == 200, response.text
    assert db.get(Package, "tiny-app") is not None


def test_a_maintainer_who_is_not_owner_may_upload(
    uploads_as: Uploads, client: TestClient, db: Session, make: Factory
) -> None:
    assert uploads_as.post(wheel(LIB)).status_code == 200
    bob = make.user(email="bob@example.com", password=PASSWORD)
    db.add(Maintainer(user_id=bob.id, package_id="tiny-lib", role=Role.MAINTAINER))
    db.flush()
    response = uploads_as.post(sdist(LIB), auth=basic_auth("bob@example.com", PASSWORD))
    assert response.status_code == 200, response.text


def test_a_contended_upload_is_retried(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, db: Session
) -> None:
    real = register.register_prepared
    calls: list[int] = []

    def lose_the_first_race(*args: Any, **kwargs: Any) -> register.Registered:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO packages", {}, Exception("unique violation"))
        return real(*args, **kwargs)

    monkeypatch.setattr(register, "register_prepared", lose_the_first_race)
    assert uploads_as.post(wheel(LIB)).status_code == 200
    assert len(calls) == 2
    assert db.get(Package, "tiny-lib") is not None


def test_endless_contention_is_a_clear_409(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    def always_lose(*args: Any, **kwargs: Any) -> register.Registered:
        raise IntegrityError("INSERT INTO packages", {}, Exception("unique violation"))

    monkeypatch.setattr(register, "register_prepared", always_lose)
    monkeypatch.setattr(upload_api, "ATTEMPTS", 2)
    assert_refused(uploads_as.post(wheel(LIB)), 409, upload_api.CONTENTION)


def test_a_storage_failure_is_a_503_and_leaves_no_rows(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, storage: FileStorage, unchanged: None
) -> None:
    def broken_put(path: str, source: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(storage, "put", broken_put)
    assert_refused(uploads_as.post(wheel(LIB)), 503, upload_api.STORAGE_FAILED)


# --- refused: the request itself ---------------------------------------------------------------


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/legacy/").status_code == 405


def test_a_form_that_is_not_multipart_is_refused(
    client: TestClient, ada: User, unchanged: None
) -> None:
    response = client.post("/legacy/", data={":action": "file_upload"}, headers=ADA)
    assert_refused(response, 400, "Upload a file as multipart/form-data.")


def test_a_broken_multipart_body_is_refused(client: TestClient, ada: User, unchanged: None) -> None:
    response = client.post(
        "/legacy/",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xyz", **ADA},
    )
    assert_refused(response, 400, "Invalid multipart form:")


def test_a_multipart_body_without_boundary_is_refused(
    client: TestClient, ada: User, unchanged: None
) -> None:
    response = client.post(
        "/legacy/", content=b"garbage", headers={"Content-Type": "multipart/form-data", **ADA}
    )
    assert_refused(response, 400, "Invalid multipart form: Missing boundary")


def test_an_upload_without_a_file_is_refused(
    client: TestClient, ada: User, unchanged: None
) -> None:
    response = client.post(
        "/legacy/",
        files={"note": (None, "x")},
        data=twine_fields(wheel(LIB)),
        headers=ADA,
    )
    assert_refused(response, 400, "Upload payload does not have a file.")


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        (":action", "submit", 410, "Registering a project first is not needed"),
        (":action", "doc_upload", 400, "Unknown or missing ':action'"),
        ("protocol_version", "2", 400, "Unknown protocol version."),
    ],
)
def test_unknown_actions_and_protocols_are_refused(
    uploads_as: Uploads, unchanged: None, field: str, value: str, status: int, message: str
) -> None:
    def change(fields: dict[str, list[str]]) -> None:
        fields[field] = [value]

    assert_refused(uploads_as.post(wheel(LIB), change=change), status, message)


def test_a_body_over_the_limit_is_refused_by_its_length(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    monkeypatch.setattr(upload_api, "MAX_BODY_SIZE", 1000)
    assert_refused(uploads_as.post(wheel(LIB)), 413, "Request too large")


def test_a_chunked_body_over_the_limit_is_refused_while_read(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, ada: User, unchanged: None
) -> None:
    monkeypatch.setattr(upload_api, "MAX_BODY_SIZE", 1000)

    def chunks() -> Iterator[bytes]:
        yield b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
        for _ in range(10):
            yield b"x" * 500

    response = client.post(
        "/legacy/",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=xyz", **ADA},
    )
    assert_refused(response, 413, "Request too large")


def test_a_field_over_its_limit_is_refused(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    monkeypatch.setattr(upload_api, "MAX_FIELD_SIZE", 10)
    response = uploads_as.post(wheel(LIB))
    assert_refused(response, 400, "Invalid multipart form: Part exceeded maximum size")


# --- refused: who is asking --------------------------------------------------------------------


def test_no_credentials_are_refused_with_a_challenge(client: TestClient, unchanged: None) -> None:
    response = Uploads(client).post(wheel(LIB), auth={})
    assert_refused(response, 401, "Invalid or non-existent authentication information.")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_an_unknown_token_is_refused(client: TestClient, unchanged: None) -> None:
    response = Uploads(client).post(wheel(LIB), auth=basic_auth("__token__", "wheelyard-nope"))
    assert_refused(response, 403, "Invalid or non-existent authentication information.")


def test_a_wrong_password_is_refused_and_recorded(
    client: TestClient, ada: User, db: Session, unchanged: None
) -> None:
    response = Uploads(client).post(wheel(LIB), auth=basic_auth("ada@example.com", "guess"))
    assert_refused(response, 403, "Invalid or non-existent authentication information.")
    failed = db.scalars(sa.select(AuditEvent)).one()
    assert (failed.action, failed.detail) == (audit.Action.LOGIN_FAILED, "ada@example.com")


def test_repeated_wrong_passwords_are_rate_limited(
    client: TestClient, ada: User, unchanged: None
) -> None:
    guesser = Uploads(client)
    for _ in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        guesser.post(wheel(LIB), auth=basic_auth("ada@example.com", "guess"))
    response = guesser.post(wheel(LIB))
    assert_refused(response, 429, "Too many failed logins")
    assert response.headers["retry-after"] == str(
        rate_limit.FAILED_LOGINS_PER_ADDRESS.retry_after_seconds
    )


def test_files_past_the_per_minute_limit_answer_429_with_retry_after(
    app: Starlette, uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    app.state.settings = replace(app.state.settings, upload_files_per_minute=2)
    assert uploads_as.post(wheel(LIB)).status_code == 200
    assert uploads_as.post(sdist(LIB)).status_code == 200
    before = snapshot(db, storage)
    response = uploads_as.post(wheel(APP))
    assert_refused(response, 429, "Too many uploads: this account may upload 2 files a minute.")
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert snapshot(db, storage) == before
    # The same file again (twine --skip-existing) spends nothing and is still answered.
    assert uploads_as.post(wheel(LIB)).status_code == 200


def test_new_projects_past_the_per_hour_limit_answer_429_with_retry_after(
    app: Starlette, uploads_as: Uploads
) -> None:
    app.state.settings = replace(app.state.settings, new_projects_per_hour=1)
    assert uploads_as.post(wheel(LIB)).status_code == 200
    response = uploads_as.post(wheel(APP))
    assert_refused(response, 429, "Too many new projects: this account may create 1 projects")
    assert int(response.headers["retry-after"]) > 3500
    # Files for the project it has go on.
    assert uploads_as.post(sdist(LIB)).status_code == 200


def test_passwords_are_refused_when_turned_off(
    uploads_as: Uploads, app: Starlette, unchanged: None
) -> None:
    app.state.settings = replace(app.state.settings, password_uploads=False)
    response = uploads_as.post(wheel(LIB))
    assert_refused(response, 403, "Uploading with an email and password is turned off")


def test_another_users_project_is_refused(
    uploads_as: Uploads, db: Session, storage: FileStorage, make: Factory
) -> None:
    assert uploads_as.post(wheel(LIB)).status_code == 200
    make.user(email="mallory@example.com", password=PASSWORD)
    before = snapshot(db, storage)
    response = uploads_as.post(sdist(LIB), auth=basic_auth("mallory@example.com", PASSWORD))
    assert_refused(
        response,
        403,
        "The user 'mallory@example.com' isn't allowed to upload to project 'tiny-lib'.",
    )
    assert snapshot(db, storage) == before


def test_a_project_requiring_two_factor_refuses_maintainers_without_it(
    uploads_as: Uploads, db: Session, storage: FileStorage, ada: User
) -> None:
    assert uploads_as.post(wheel(LIB)).status_code == 200
    package = db.get(Package, "tiny-lib")
    assert package is not None
    package.require_2fa = True
    db.commit()
    _token, secret = tokens.create_token(db, ada, description="ci")
    before = snapshot(db, storage)
    response = uploads_as.post(sdist(LIB), auth=basic_auth("__token__", secret))
    assert_refused(response, 403, "Project 'tiny-lib' requires two-factor authentication")
    assert snapshot(db, storage) == before

    ada.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    db.commit()
    response = uploads_as.post(sdist(LIB), auth=basic_auth("__token__", secret))
    assert response.status_code == 200, response.text


def test_a_token_scoped_to_another_project_is_refused(
    uploads_as: Uploads, db: Session, storage: FileStorage, ada: User, make: Factory
) -> None:
    make.package("other-project", owner=ada)
    _token, secret = tokens.create_token(db, ada, description="ci", package_id="other-project")
    before = snapshot(db, storage)
    response = uploads_as.post(wheel(LIB), auth=basic_auth("__token__", secret))
    assert_refused(response, 403, "This API token is limited to project 'other-project'")
    assert snapshot(db, storage) == before


def test_a_read_token_is_refused_with_the_reason(
    uploads_as: Uploads, db: Session, storage: FileStorage, ada: User
) -> None:
    _token, secret = tokens.create_token(db, ada, description="installs", scope=TokenScope.READ)
    before = snapshot(db, storage)
    response = uploads_as.post(wheel(LIB), auth=basic_auth("__token__", secret))
    assert_refused(response, 403, "This API token can only read (install).")
    assert snapshot(db, storage) == before


# --- refused: metadata, names, files -----------------------------------------------------------


def _set(field: str, *values: str) -> Callable[[dict[str, list[str]]], None]:
    def change(fields: dict[str, list[str]]) -> None:
        if values:
            fields[field] = list(values)
        else:
            fields.pop(field, None)

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("metadata_version"), "Invalid value for metadata_version. Error: This field is"),
        (_set("metadata_version", "9.9"), "Invalid value for metadata_version. Error: Use a known"),
        (_set("name"), "Invalid value for name. Error: This field is required."),
        (_set("name", "tiny lib!"), "Invalid value for name."),
        (_set("version", "1.0-final-final"), "Invalid value for version."),
        (_set("summary", "one\ntwo"), "Invalid value for summary."),
        (_set("summary", "s" * 513), "Invalid value for summary. Error: Use at most 512"),
        (_set("requires_python", "3.9+"), "Invalid value for requires_python."),
        (_set("classifiers", "Invented :: Classifier"), "Invalid value for classifiers."),
        (_set("project_urls", "no label here"), "Invalid value for project_urls."),
        (_set("filetype", "bdist_egg"), "Invalid value for filetype."),
        (_set("pyversion"), "Invalid value for pyversion. Error: Python version is required"),
        (
            _set("sha256_digest", "not-hex"),
            "Invalid value for sha256_digest. Error: Use a valid, hex-encoded, SHA256 message "
            "digest.",
        ),
        (
            _set("blake2_256_digest", "0" * 63),
            "Invalid value for blake2_256_digest. Error: Use a valid, hex-encoded, BLAKE2 "
            "message digest.",
        ),
        (
            _set("sha256_digest", "0" * 64),
            "The digest supplied does not match a digest calculated from the uploaded file.",
        ),
    ],
)
def test_bad_metadata_and_form_fields_are_refused(
    uploads_as: Uploads,
    unchanged: None,
    change: Callable[[dict[str, list[str]]], None],
    message: str,
) -> None:
    assert_refused(uploads_as.post(wheel(LIB), change=change), 400, message)


def test_a_message_digest_is_required(uploads_as: Uploads, unchanged: None) -> None:
    def no_digests(fields: dict[str, list[str]]) -> None:
        del fields["sha256_digest"], fields["blake2_256_digest"]

    assert_refused(
        uploads_as.post(wheel(LIB), change=no_digests), 400, "Include at least one message digest."
    )


def test_a_standard_library_name_is_refused(uploads_as: Uploads, unchanged: None) -> None:
    response = uploads_as.post(wheel(Project("json", "1.0")))
    assert_refused(response, 400, "The name 'json' isn't allowed")


def test_a_look_alike_of_an_existing_project_is_refused_naming_it(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    original = wheel(Project("flask", "1.0"))
    assert uploads_as.post(original).status_code == 200
    before = snapshot(db, storage)
    for name in ("fl-ask", "fla.sk", "f-l-a-s-k", "f1ask"):
        response = uploads_as.post(wheel(Project(name, "1.0")))
        assert_refused(
            response, 400, f"The name {name!r} is too similar to an existing project, 'flask'."
        )
    assert snapshot(db, storage) == before
    # The project itself still takes its files, the same one again and new ones.
    assert uploads_as.post(original).status_code == 200
    assert uploads_as.post(wheel(Project("Flask", "1.1"))).status_code == 200


@pytest.mark.parametrize(
    ("dist", "filename", "message"),
    [
        (
            wheel(LIB),
            "other_lib-1.0-py3-none-any.whl",
            "Start filename for 'tiny-lib' with 'tiny_lib'.",
        ),
        (
            wheel(LIB),
            "tiny_lib-1.1-py3-none-any.whl",
            "Version in filename should be '1.0' not '1.1'.",
        ),
        (
            wheel(LIB),
            "tiny_lib-1.0-py3-none-any.exe",
            "Invalid file extension: use .tar.gz, .whl or .zip.",
        ),
        (wheel(LIB), "tiny_lib-1.0-py3-none.whl", "Invalid wheel filename"),
        (
            wheel(LIB),
            "tiny_lib-1.0.tar.gz",
            "Invalid distribution file: 'tiny_lib-1.0.tar.gz' is not",
        ),
        (wheel(LIB), "sub/tiny_lib-1.0-py3-none-any.whl", "Invalid filename"),
        (sdist(LIB), "Tiny-Lib-1.0.tar.gz", "Start filename for 'tiny-lib' with 'tiny_lib'."),
    ],
)
def test_filenames_that_break_the_rules_are_refused(
    uploads_as: Uploads, unchanged: None, dist: Dist, filename: str, message: str
) -> None:
    assert_refused(uploads_as.post(dist, filename=filename), 400, message)


def test_the_same_filename_with_other_content_is_refused(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    assert uploads_as.post(wheel(LIB)).status_code == 200
    before = snapshot(db, storage)
    response = uploads_as.post(wheel(replace(LIB, summary="Rebuilt")))
    assert_refused(response, 400, "File already exists")
    assert snapshot(db, storage) == before


def test_a_removed_files_name_is_never_reused(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    dist = wheel(LIB)
    db.add(FileRegistry(filename=dist.filename))  # uploaded once, since removed
    db.flush()
    before = snapshot(db, storage)
    response = uploads_as.post(dist)
    assert_refused(response, 400, "This filename has already been used, use a different version")
    assert snapshot(db, storage) == before


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("TINY_LIB-1.0-py3-none-any.whl", "Invalid filename 'TINY_LIB-1.0-py3-none-any.whl'"),
        ("Tiny_Lib-1.0-py3-none-any.whl", "Invalid filename 'Tiny_Lib-1.0-py3-none-any.whl'"),
        ("tiny_lib-01.0-py3-none-any.whl", "Invalid filename 'tiny_lib-01.0-py3-none-any.whl'"),
        ("tiny_lib-1.0.0-py3-none-any.whl", "Invalid filename 'tiny_lib-1.0.0-py3-none-any"),
        ("tiny_lib-1.0-py3-none-any (2).whl", "Invalid filename 'tiny_lib-1.0-py3-none-any (2)"),
    ],
)
def test_a_removed_wheel_comes_back_under_no_other_spelling(
    uploads_as: Uploads, db: Session, storage: FileStorage, filename: str, reason: str
) -> None:
    """Before, each of these went into release 1.0 once its wheel had been deleted, and pip
    fetched the replacement."""
    dist = wheel(LIB)
    db.add(FileRegistry(filename=dist.filename))  # uploaded once, since removed
    db.flush()
    before = snapshot(db, storage)
    assert_refused(uploads_as.post(dist, filename=filename), 400, reason)
    # Under a build number it is the same tags: refused too.
    rebuilt = "tiny_lib-1.0-1-py3-none-any.whl"
    assert_refused(
        uploads_as.post(dist, filename=rebuilt), 400, "Release '1.0' already has a wheel"
    )
    assert snapshot(db, storage) == before


def test_the_same_content_under_another_name_is_refused(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    dist = wheel(LIB)
    assert uploads_as.post(dist).status_code == 200
    before = snapshot(db, storage)
    response = uploads_as.post(dist, filename="tiny_lib-1.0-py2.py3-none-any.whl")
    assert_refused(response, 400, "File already exists: the same content is on this index")
    assert snapshot(db, storage) == before


def test_a_second_sdist_for_a_release_is_refused(
    uploads_as: Uploads, db: Session, storage: FileStorage
) -> None:
    assert uploads_as.post(sdist(LIB)).status_code == 200
    before = snapshot(db, storage)
    response = uploads_as.post(sdist(replace(LIB, version="1.0.0")))
    assert_refused(response, 400, "Only one sdist may be uploaded per release.")
    assert snapshot(db, storage) == before


def test_a_file_over_the_size_limit_is_refused(
    uploads_as: Uploads, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    monkeypatch.setattr(policy, "MAX_FILE_SIZE", 1024)
    assert_refused(uploads_as.post(wheel(LIB)), 400, "File too large. Limit for project 'tiny-lib'")


# --- refused: the archive ----------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


METADATA = LIB.core_metadata().encode()


def _as_upload(dist: Dist, content: bytes) -> Dist:
    """``dist``'s name and metadata around other bytes (the digests sent match them)."""
    return Dist(dist.filename, content, dist.metadata)


@pytest.mark.parametrize(
    ("dist", "message"),
    [
        (
            _as_upload(wheel(LIB), _zip({"tiny_lib/__init__.py": b""})),
            "Invalid distribution file. Wheel 'tiny_lib-1.0-py3-none-any.whl' does not contain",
        ),
        (
            _as_upload(sdist(LIB), _tar_gz({"tiny_lib-1.0/setup.py": b""})),
            "Invalid distribution file. The sdist 'tiny_lib-1.0.tar.gz' does not contain a "
            "PKG-INFO file.",
        ),
        (
            _as_upload(
                wheel(LIB),
                _zip({"tiny_lib-1.0.dist-info/METADATA": METADATA, "../../evil.pth": b""}),
            ),
            "Invalid distribution file. The archive member '../../evil.pth' reaches outside",
        ),
        (
            _as_upload(
                sdist(LIB), _tar_gz({"tiny_lib-1.0/PKG-INFO": METADATA, "/etc/cron.d/x": b""})
            ),
            "Invalid distribution file. The archive member '/etc/cron.d/x' has an absolute path.",
        ),
        (
            _as_upload(
                wheel(LIB),
                _zip({"tiny_lib-1.0.dist-info/METADATA": METADATA, "zeros": b"\0" * 2**23}),
            ),
            "Invalid distribution file. The archive unpacks to",
        ),
        (
            _as_upload(wheel(LIB), wheel(LIB).content[:-40]),
            "Invalid distribution file. The archive cannot be read",
        ),
        (
            _as_upload(
                wheel(LIB), _zip({"tiny_lib-1.0.dist-info/METADATA": APP.core_metadata().encode()})
            ),
            "Invalid distribution file. tiny_lib-1.0.dist-info/METADATA names 'tiny-app' '0.1'",
        ),
        (
            _as_upload(
                wheel(LIB),
                _zip(
                    {
                        "tiny_lib-1.0.dist-info/METADATA": METADATA.replace(
                            b"Metadata-Version: 2.1", b"Metadata-Version: 9.9"
                        )
                    }
                ),
            ),
            "Invalid distribution file. tiny_lib-1.0.dist-info/METADATA declares "
            "Metadata-Version '9.9', which is not a known metadata version.",
        ),
    ],
    ids=[
        "no-metadata",
        "no-pkg-info",
        "traversal",
        "absolute",
        "zip-bomb",
        "truncated",
        "other",
        "unknown-version",
    ],
)
def test_bad_archives_are_refused(
    uploads_as: Uploads, unchanged: None, dist: Dist, message: str
) -> None:
    assert_refused(uploads_as.post(dist), 400, message)
