"""Read-only mode: every write answers 503 with the reason; reads and downloads go on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, post_dist
from wheelyard.data.api_token import ApiToken
from wheelyard.data.db_session import transaction
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.site import flags
from wheelyard.services.site.flags import FlagCache, Flags
from wheelyard.storage.base import FileStorage

REASON = "Moving to the new disk until 18:00 UTC."


@pytest.fixture
def admin(client: TestClient, make: Factory) -> TestClient:
    """An admin's browser, signed in before the mode starts."""
    make.user(email="admin@example.com", is_admin=True)
    assert log_in(client, "admin@example.com").status_code == 303
    return client


@pytest.fixture
def stored(make: Factory, owner: User, storage: FileStorage) -> ReleaseFile:
    package = make.package("demo", versions=(), owner=owner)
    release = make.release(package, "1.0", with_file=False)
    return make.stored_file(release, wheel(Project("demo", "1.0")), storage)


def read_only(admin: TestClient, on: bool) -> None:
    fields = {"csrf_token": csrf_from(admin, "/admin/"), "on": "1" if on else "0"}
    if on:
        fields["reason"] = REASON
    assert admin.post("/admin/flags/read-only", data=fields).status_code == 200


def assert_refused(response: object) -> None:
    status = getattr(response, "status_code", None)
    text = getattr(response, "text", "")
    assert status == 503, text
    assert REASON in text


def test_writes_are_refused_with_the_reason_and_reads_go_on(
    admin: TestClient, app: Starlette, db: Session, owner: User, stored: ReleaseFile
) -> None:
    # Each signed in (and its form pages read) before the mode starts.
    owners_browser = elsewhere(app, "192.0.2.10")
    log_in(owners_browser, owner.email)
    manage_token = csrf_from(owners_browser, "/manage/project/demo/")
    tokens_token = csrf_from(owners_browser, "/account/tokens")
    visitor = elsewhere(app, "192.0.2.11")
    register_token = csrf_from(visitor, "/account/register")

    read_only(admin, True)

    upload = post_dist(
        elsewhere(app, "192.0.2.12"),
        wheel(Project("demo", "2.0")),
        basic_auth(owner.email, PASSWORD),
    )
    assert_refused(upload)
    assert upload.headers["retry-after"]
    signup = visitor.post(
        "/account/register",
        data={
            "csrf_token": register_token,
            "name": "New Person",
            "email": "new@example.com",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert_refused(signup)
    yank = owners_browser.post(
        "/manage/project/demo/release/yank",
        data={"csrf_token": manage_token, "version": "1.0", "reason": "x"},
    )
    assert_refused(yank)
    token = owners_browser.post(
        "/account/tokens", data={"csrf_token": tokens_token, "description": "ci"}
    )
    assert_refused(token)

    # Nothing changed.
    db.expire_all()
    package = db.get(Package, "demo")
    assert package is not None
    assert [(r.version, r.yanked) for r in package.releases] == [("1.0", False)]
    assert db.scalar(sa.select(User).where(User.email == "new@example.com")) is None
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0

    # Reads and installs go on, and the pages say why nothing can change.
    reader = elsewhere(app, "192.0.2.13")
    page = reader.get("/project/demo/")
    assert page.status_code == 200 and REASON in page.text
    simple = reader.get("/simple/demo/")
    assert simple.status_code == 200 and stored.filename in simple.text
    href = simple.text.split('href="')[1].split("#")[0]
    download = reader.get("/simple/demo/" + href)
    assert download.status_code == 200
    assert download.content == wheel(Project("demo", "1.0")).content
    assert reader.get("/pypi/demo/json").status_code == 200

    # The admin ends the mode from the admin page; writes work again.
    read_only(admin, False)
    upload = post_dist(
        elsewhere(app, "192.0.2.12"),
        wheel(Project("demo", "2.0")),
        basic_auth(owner.email, PASSWORD),
    )
    assert upload.status_code == 200, upload.text


def test_other_workers_see_the_flag_within_the_cache_time(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    def load() -> Flags:
        with transaction(sessions, writes=False) as db:
            return flags.read(db)

    now = [0.0]
    # Another worker's copy, read before the change.
    other = FlagCache(load, ttl=5.0, clock=lambda: now[0])
    assert other.current().read_only is None
    read_only(admin, True)
    now[0] = 4.0
    assert other.current().read_only is None  # still within its cache time
    now[0] = 5.5
    assert other.current().read_only == REASON


def test_an_admin_can_still_sign_in_to_end_it(
    admin: TestClient, app: Starlette, make: Factory
) -> None:
    read_only(admin, True)
    make.user(email="second@example.com", is_admin=True)
    other = elsewhere(app, "192.0.2.20")
    assert log_in(other, "second@example.com").status_code == 303
    read_only(other, False)
    assert "Read-only mode" not in other.get("/").text
