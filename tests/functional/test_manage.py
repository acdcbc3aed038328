"""Owners managing a project on /manage/project/<name>/."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.projects import admin as project_admin
from wheelyard.services.projects import maintainers
from wheelyard.services.projects.release_files import metadata_path
from wheelyard.storage.base import FileStorage

URL = "/manage/project/demo/"


def post(client: TestClient, action: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, URL)
    response = client.post(URL + action, data=fields, follow_redirects=False)
    return response.status_code, response.text


def audit_actions(db: Session) -> list[str]:
    query = sa.select(AuditEvent.action).where(AuditEvent.package_id == "demo")
    return list(db.scalars(query.order_by(AuditEvent.id)))


def journal_actions(db: Session) -> list[str]:
    query = sa.select(JournalEntry.action).where(JournalEntry.package_id == "demo")
    return list(db.scalars(query.order_by(JournalEntry.id)))


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient, package: Package) -> None:
    response = client.get(URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Fmanage%2Fproject%2Fdemo%2F"


def test_maintainers_and_strangers_are_forbidden(
    client: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    helper = make.user(email="helper@example.com")
    make.user(email="stranger@example.com")
    db.add(Maintainer(user=helper, package=package, role=Role.MAINTAINER))
    db.flush()
    for email in ("helper@example.com", "stranger@example.com"):
        log_in(client, email)
        assert client.get(URL).status_code == 403
        token = csrf_from(client, "/account")
        response = client.post(
            URL + "release/yank", data={"csrf_token": token, "version": "1.0", "reason": "x"}
        )
        assert response.status_code == 403
    assert journal_actions(db) == []


def test_admins_may_manage_any_project(client: TestClient, make: Factory, package: Package) -> None:
    make.user(email="admin@example.com", is_admin=True)
    log_in(client, "admin@example.com")
    assert client.get(URL).status_code == 200


def test_the_owner_sees_the_page(as_owner: TestClient) -> None:
    page = as_owner.get(URL)
    assert page.status_code == 200
    assert "Olive Owner" in page.text
    assert "demo-2.0-py3-none-any.whl" in page.text
    assert 'name="reason"' in page.text


def test_other_spellings_move_to_the_normalized_url(as_owner: TestClient) -> None:
    response = as_owner.get("/manage/project/DEMO/", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == URL


@pytest.mark.parametrize("name", ["missing", "..%2F..", "x" * 300])
def test_unknown_projects_are_404(as_owner: TestClient, name: str) -> None:
    assert as_owner.get(f"/manage/project/{name}/").status_code == 404


def test_add_change_and_remove_a_maintainer(
    as_owner: TestClient, db: Session, make: Factory
) -> None:
    helper = make.user(email="helper@example.com")
    assert (
        post(as_owner, "maintainers/add", email="Helper@Example.com", role="Maintainer")[0] == 303
    )
    assert "is now maintainer of demo" in as_owner.get(URL).text
    assert maintainers.role_of(db, helper.id, "demo") == Role.MAINTAINER
    assert post(as_owner, "maintainers/role", user_id=str(helper.id), role="Owner")[0] == 303
    assert maintainers.role_of(db, helper.id, "demo") == Role.OWNER
    assert post(as_owner, "maintainers/remove", user_id=str(helper.id))[0] == 303
    assert maintainers.role_of(db, helper.id, "demo") is None
    assert audit_actions(db) == ["add maintainer", "change role", "remove maintainer"]


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("maintainers/add", {"email": "nobody@example.com", "role": "Maintainer"}, "no account"),
        ("maintainers/add", {"email": "", "role": "Maintainer"}, "Enter the email"),
        ("maintainers/add", {"email": "owner@example.com", "role": "Owner"}, "already"),
        ("maintainers/add", {"email": "x" * 5000, "role": "Owner"}, "Enter the email"),
        ("maintainers/role", {"user_id": "OWNER", "role": "Maintainer"}, "at least one owner"),
        ("maintainers/role", {"user_id": "OWNER", "role": "King"}, "Unknown role"),
        ("maintainers/role", {"user_id": "abc", "role": "Owner"}, "Choose a maintainer"),
        ("maintainers/remove", {"user_id": "OWNER"}, "at least one owner"),
        ("maintainers/remove", {"user_id": "999999"}, "not a maintainer"),
        ("maintainers/remove", {"user_id": "9" * 40}, "Choose a maintainer"),
        ("release/yank", {"version": "9.9", "reason": ""}, "no such release"),
        ("release/yank", {"version": "1.0", "reason": "r" * 1001}, "longer than"),
        ("release/unyank", {"version": "1.0"}, "not yanked"),
        ("release/delete", {"version": "1.0", "confirm": "2.0"}, "to confirm"),
        ("release/delete", {"version": "1.0"}, "to confirm"),
        ("file/delete", {"filename": "demo-1.0-py3-none-any.whl"}, "to confirm"),
        ("file/delete", {"filename": "../../etc/passwd", "confirm": "x"}, "no such file"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    as_owner: TestClient,
    db: Session,
    owner: User,
    action: str,
    fields: dict[str, str],
    message: str,
) -> None:
    fields = {k: str(owner.id) if v == "OWNER" else v for k, v in fields.items()}
    status, text = post(as_owner, action, **fields)
    assert status == 400
    assert message in text
    assert audit_actions(db) == []
    assert journal_actions(db) == []
    assert maintainers.role_of(db, owner.id, "demo") == Role.OWNER
    assert db.scalar(sa.select(sa.func.count()).select_from(ReleaseFile)) == 2


def test_changes_need_the_csrf_token(as_owner: TestClient, db: Session) -> None:
    response = as_owner.post(URL + "release/yank", data={"version": "1.0", "reason": "x"})
    assert response.status_code == 403
    assert journal_actions(db) == []


def test_anonymous_posts_go_to_log_in(client: TestClient, db: Session, package: Package) -> None:
    token = csrf_from(client, "/account/login")
    response = client.post(
        URL + "release/yank",
        data={"csrf_token": token, "version": "1.0"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=/manage/project/demo/")
    assert journal_actions(db) == []


def test_yank_with_a_reason_then_unyank(as_owner: TestClient, db: Session) -> None:
    assert post(as_owner, "release/yank", version="1.0", reason="broken on Windows")[0] == 303
    release = db.scalars(sa.select(Release).where(Release.version == "1.0")).one()
    db.refresh(release)
    assert release.yanked and release.yanked_reason == "broken on Windows"
    assert "Reason: broken on Windows" in as_owner.get("/project/demo/1.0/").text
    assert post(as_owner, "release/unyank", version="1.0")[0] == 303
    db.refresh(release)
    assert not release.yanked
    assert journal_actions(db) == ["yank release", "unyank release"]
    assert audit_actions(db) == ["yank", "unyank"]
    activity = as_owner.get(URL).text.split("Recent activity", 1)[1]
    assert "Olive Owner" in activity
    assert "1.0: broken on Windows" in activity


def test_delete_a_file_removes_row_and_blob_but_not_its_name(
    app: Starlette, as_owner: TestClient, db: Session, make: Factory, package: Package
) -> None:
    storage: FileStorage = app.state.storage
    release = make.release(package, "3.0", with_file=False)
    stored = make.stored_file(release, wheel(Project(name="demo", version="3.0")), storage)
    db.add(FileRegistry(filename=stored.filename))
    db.flush()
    filename, blob, metadata = stored.filename, stored.storage_path, metadata_path(stored)
    assert blob is not None and storage.exists(blob)
    assert metadata is not None and storage.exists(metadata)
    status, _ = post(as_owner, "file/delete", filename=filename, confirm=filename)
    assert status == 303
    db.expire_all()
    assert db.scalar(sa.select(ReleaseFile).where(ReleaseFile.filename == filename)) is None
    assert not storage.exists(blob)
    assert not storage.exists(metadata)
    registered = sa.select(FileRegistry).where(FileRegistry.filename == filename)
    assert db.scalar(registered) is not None
    assert journal_actions(db) == ["remove file"]
    assert audit_actions(db) == ["remove file"]


def test_delete_a_release(as_owner: TestClient, db: Session) -> None:
    assert post(as_owner, "release/delete", version="2.0", confirm="2.0")[0] == 303
    db.expire_all()
    assert [r.version for r in db.get_one(Package, "demo").releases] == ["1.0"]
    assert db.scalar(sa.select(sa.func.count()).select_from(ReleaseFile)) == 1
    assert journal_actions(db) == ["remove release"]
    assert audit_actions(db) == ["remove release"]
    assert "2.0" not in as_owner.get("/simple/demo/").text


def test_a_refused_change_shows_the_page_again_with_the_reason(as_owner: TestClient) -> None:
    status, text = post(as_owner, "maintainers/remove", user_id="999999")
    assert status == 400
    assert "<h1>Manage demo</h1>" in text
    assert 'role="alert">That user is not a maintainer of this project.' in text


def _stored_file(app: Starlette, db: Session, make: Factory, package: Package) -> ReleaseFile:
    release = make.release(package, "3.0", with_file=False)
    stored = make.stored_file(
        release, wheel(Project(name="demo", version="3.0")), app.state.storage
    )
    db.add(FileRegistry(filename=stored.filename))
    db.flush()
    return stored


def test_a_blob_that_cannot_be_deleted_is_left_behind_not_the_row(
    app: Starlette,
    as_owner: TestClient,
    db: Session,
    make: Factory,
    package: Package,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = _stored_file(app, db, make, package)
    filename, blob = stored.filename, stored.storage_path

    def broken_delete(path: str) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(app.state.storage, "delete", broken_delete)
    status, _ = post(as_owner, "file/delete", filename=filename, confirm=filename)
    assert status == 303
    db.expire_all()
    assert db.scalar(sa.select(ReleaseFile).where(ReleaseFile.filename == filename)) is None
    assert blob is not None and app.state.storage.exists(blob)


def test_a_deletion_that_fails_before_commit_keeps_row_and_blob(
    app: Starlette,
    as_owner: TestClient,
    db: Session,
    make: Factory,
    package: Package,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = _stored_file(app, db, make, package)
    filename, blob = stored.filename, stored.storage_path

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away mid-change")

    # The audit row is the last write of a removal: failing there rolls the removal back.
    monkeypatch.setattr(project_admin.audit, "record", crash)
    with pytest.raises(RuntimeError):
        post(as_owner, "file/delete", filename=filename, confirm=filename)
    db.expire_all()
    assert db.scalar(sa.select(ReleaseFile).where(ReleaseFile.filename == filename)) is not None
    assert blob is not None and app.state.storage.exists(blob)
    assert journal_actions(db) == []


def test_requiring_two_factor_needs_it_on_the_owner_first(
    as_owner: TestClient, owner: User, package: Package, db: Session
) -> None:
    status, page = post(as_owner, "require-2fa", require="1")
    assert status == 400
    assert "Turn on two-factor login for your own account" in page
    db.refresh(package)
    assert not package.require_2fa

    owner.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    db.commit()
    assert post(as_owner, "require-2fa", require="1")[0] == 303
    db.refresh(package)
    assert package.require_2fa
    assert "Uploads need two-factor login" in as_owner.get(URL).text
    assert post(as_owner, "require-2fa", require="0")[0] == 303
    db.refresh(package)
    assert not package.require_2fa
    assert audit_actions(db) == ["require two-factor on", "require two-factor off"]


def test_a_bad_require_value_is_refused(as_owner: TestClient, package: Package) -> None:
    status, page = post(as_owner, "require-2fa", require="maybe")
    assert status == 400
    assert "Say whether two-factor login is required." in page
