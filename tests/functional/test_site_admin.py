"""The site admin pages at /admin/: users, projects, prohibited names and site flags."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, post_dist
from wheelyard.data.api_token import ApiToken
from wheelyard.data.audit import AuditEvent
from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, ProjectStatus
from wheelyard.data.user import User
from wheelyard.services.accounts import tokens

PAGES = ("/admin/", "/admin/users/", "/admin/projects/", "/admin/names/")


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(name="Ann Admin", email="admin@example.com", is_admin=True)


@pytest.fixture
def as_admin(client: TestClient, admin: User) -> TestClient:
    assert log_in(client, admin.email).status_code == 303
    return client


def post(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, "/admin/")
    response = client.post(path, data=fields, follow_redirects=True)
    return response.status_code, response.text


def actions(db: Session) -> list[str]:
    return list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_pages_do_not_exist_for_anyone_but_admins(
    client: TestClient, make: Factory, ada: User
) -> None:
    for path in PAGES:
        assert client.get(path, follow_redirects=False).status_code == 404
    log_in(client, ada.email)
    for path in PAGES:
        assert client.get(path, follow_redirects=False).status_code == 404
    token = csrf_from(client, "/account")
    response = client.post(
        "/admin/flags/read-only", data={"csrf_token": token, "on": "1", "reason": "x"}
    )
    assert response.status_code == 404


def test_admins_see_every_page(as_admin: TestClient, package: Package) -> None:
    for path in PAGES:
        assert as_admin.get(path).status_code == 200
    assert "demo" in as_admin.get("/admin/projects/?q=dem").text
    assert "Site administration" in as_admin.get("/account").text


def test_changes_need_the_csrf_token(as_admin: TestClient, db: Session, ada: User) -> None:
    response = as_admin.post("/admin/users/deactivate", data={"email": ada.email})
    assert response.status_code == 403
    db.refresh(ada)
    assert ada.is_active


def test_search_deactivate_and_reactivate_a_user(
    as_admin: TestClient, app: Starlette, db: Session, ada: User
) -> None:
    page = as_admin.get("/admin/users/?q=LOVE").text
    assert "ada@example.com" in page and "admin@example.com" not in page
    laptop = elsewhere(app)
    assert log_in(laptop, ada.email).status_code == 303

    status, text = post(as_admin, "/admin/users/deactivate", email=ada.email, q="love")
    assert status == 200 and "ada@example.com is now deactivated" in text
    db.refresh(ada)
    assert not ada.is_active
    # Her session ended and she cannot log in again.
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    assert log_in(elsewhere(app, "192.0.2.9"), ada.email).status_code != 303

    post(as_admin, "/admin/users/reactivate", email=ada.email)
    db.refresh(ada)
    assert ada.is_active
    trail = actions(db)
    assert trail.index("account deactivated") < trail.index("account reactivated")


def test_reset_two_factor_and_make_admin(as_admin: TestClient, db: Session, ada: User) -> None:
    ada.totp_secret = "sealed-secret"
    db.flush()
    status, text = post(as_admin, "/admin/users/reset-2fa", email=ada.email)
    assert status == 200 and "Two-factor login of ada@example.com is off" in text
    db.refresh(ada)
    assert ada.totp_secret is None

    post(as_admin, "/admin/users/make-admin", email=ada.email)
    db.refresh(ada)
    assert ada.is_admin
    post(as_admin, "/admin/users/revoke-admin", email=ada.email)
    db.refresh(ada)
    assert not ada.is_admin
    assert actions(db)[-3:] == ["two-factor reset by an admin", "admin granted", "admin revoked"]


def test_an_admin_cannot_lock_themselves_out(as_admin: TestClient, admin: User) -> None:
    status, text = post(as_admin, "/admin/users/deactivate", email=admin.email)
    assert status == 400 and "your own account" in text
    status, text = post(as_admin, "/admin/users/revoke-admin", email=admin.email)
    assert status == 400 and "your own admin rights" in text


def test_remove_a_user_with_their_tokens(as_admin: TestClient, db: Session, ada: User) -> None:
    tokens.create_token(db, ada, description="ci")
    db.flush()
    status, text = post(as_admin, "/admin/users/remove", email=ada.email, confirm="wrong")
    assert status == 400 and "to confirm" in text

    status, text = post(as_admin, "/admin/users/remove", email=ada.email, confirm=ada.email)
    assert status == 200 and "with its 1 API token(s)" in text
    db.expire_all()
    assert db.scalar(sa.select(User).where(User.email == "ada@example.com")) is None
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert actions(db)[-1] == "account removed"


def test_the_only_owner_of_a_project_is_not_removed(
    as_admin: TestClient, db: Session, owner: User, package: Package
) -> None:
    status, text = post(as_admin, "/admin/users/remove", email=owner.email, confirm=owner.email)
    assert status == 400 and "only owner of demo" in text
    assert db.get(User, owner.id) is not None


def test_unknown_accounts_and_projects_are_400_not_500(as_admin: TestClient) -> None:
    status, text = post(as_admin, "/admin/users/deactivate", email="nobody@example.com")
    assert status == 400 and "no account" in text
    status, text = post(as_admin, "/admin/projects/status", project="nothing", status="archived")
    assert status == 400 and "no project" in text
    status, text = post(as_admin, "/admin/projects/status", project="../x", status="x")
    assert status == 400


def test_transfer_ownership(
    as_admin: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    heir = make.user(email="heir@example.com")
    status, text = post(as_admin, "/admin/projects/transfer", project="demo", email=heir.email)
    assert status == 200 and "heir@example.com is now the owner of demo" in text
    db.expire_all()
    links = {link.user.email: link.role for link in db.scalars(sa.select(Maintainer))}
    assert links == {"heir@example.com": Role.OWNER}
    journal = db.scalars(sa.select(JournalEntry.action).where(JournalEntry.package_id == "demo"))
    assert "transfer ownership" in list(journal)


def test_quarantine_and_delete_a_project(
    as_admin: TestClient, client: TestClient, db: Session, package: Package
) -> None:
    status, _ = post(
        as_admin, "/admin/projects/status", project="demo", status="quarantined", reason="malware"
    )
    assert status == 200
    db.refresh(package)
    assert package.status is ProjectStatus.QUARANTINED
    assert package.status_reason == "malware"

    status, text = post(as_admin, "/admin/projects/delete", project="demo", confirm="dem")
    assert status == 400 and "to confirm" in text
    status, text = post(as_admin, "/admin/projects/delete", project="demo", confirm="demo")
    assert status == 200 and "demo is deleted" in text
    db.expire_all()
    assert db.get(Package, "demo") is None
    assert client.get("/simple/demo/").status_code == 404
    assert actions(db)[-2:] == ["project status changed", "project removed"]


def test_a_prohibited_name_refuses_uploads_with_the_reason(
    as_admin: TestClient, app: Starlette, db: Session, ada: User
) -> None:
    status, _ = post(as_admin, "/admin/names/prohibit", name="Evil_Corp", reason="a trademark")
    assert status == 200
    assert "Evil_Corp" in as_admin.get("/admin/names/").text
    status, text = post(as_admin, "/admin/names/prohibit", name="evil-corp", reason="again")
    assert status == 400 and "already prohibited" in text
    status, text = post(as_admin, "/admin/names/prohibit", name="ok-name", reason="")
    assert status == 400

    uploader = elsewhere(app)
    response = post_dist(
        uploader, wheel(Project("evil.corp", "1.0")), basic_auth(ada.email, PASSWORD)
    )
    assert response.status_code == 403
    assert "a trademark" in response.text
    assert db.get(Package, "evil-corp") is None

    post(as_admin, "/admin/names/allow", name="evil-corp")
    response = post_dist(
        uploader, wheel(Project("evil.corp", "1.0")), basic_auth(ada.email, PASSWORD)
    )
    assert response.status_code == 200, response.text
    assert {"name prohibited", "name allowed"} <= set(actions(db))


def test_registration_closed_by_the_flag(as_admin: TestClient, app: Starlette) -> None:
    visitor = elsewhere(app)
    assert visitor.get("/account/register").status_code == 200
    status, text = post(as_admin, "/admin/flags/registration", on="0")
    assert status == 200 and "Registration is closed." in text
    assert visitor.get("/account/register").status_code == 403
    assert 'href="/account/register"' not in visitor.get("/").text
    post(as_admin, "/admin/flags/registration", on="1")
    assert visitor.get("/account/register").status_code == 200


def test_two_factor_required_of_every_uploader(
    as_admin: TestClient, app: Starlette, db: Session, admin: User, ada: User
) -> None:
    status, text = post(as_admin, "/admin/flags/require-2fa", on="1")
    assert status == 400 and "your own account" in text  # the admin has none yet
    admin.totp_secret = "sealed-secret"
    db.flush()
    status, _ = post(as_admin, "/admin/flags/require-2fa", on="1")
    assert status == 200

    response = post_dist(
        elsewhere(app), wheel(Project("fresh-one", "1.0")), basic_auth(ada.email, PASSWORD)
    )
    assert response.status_code == 403
    assert "requires two-factor authentication of everyone" in response.text
    assert actions(db)[-1] != "upload"


def test_a_bad_flag_value_is_refused(as_admin: TestClient) -> None:
    status, text = post(as_admin, "/admin/flags/read-only", on="maybe")
    assert status == 400 and "on or off" in text
    status, text = post(as_admin, "/admin/flags/read-only", on="1", reason="x" * 1001)
    assert status == 400 and "longer than" in text
