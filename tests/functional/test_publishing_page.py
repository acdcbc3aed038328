"""The account's publishing page: pending trusted publishers for projects not made yet."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.package import Package
from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.data.user import User

URL = "/account/publishing"
GITHUB = {"kind": "github", "repository": "acme/new-thing", "workflow": "release.yml"}


@pytest.fixture
def as_ada(client: TestClient, ada: User) -> TestClient:
    assert log_in(client, "ada@example.com").status_code == 303
    return client


def post(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, URL)
    response = client.post(path, data=fields, follow_redirects=True)
    return response.status_code, response.text


def publishers(db: Session) -> list[TrustedPublisher]:
    return list(db.scalars(sa.select(TrustedPublisher).order_by(TrustedPublisher.id)))


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient) -> None:
    response = client.get(URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login")


def test_add_and_remove_a_pending_publisher(as_ada: TestClient, db: Session, ada: User) -> None:
    status, page = post(as_ada, URL, project="New_Thing", **GITHUB)

    assert status == 200
    assert "New_Thing" in page
    assert "acme/new-thing by release.yml" in page
    [added] = publishers(db)
    assert (added.project_id, added.pending, added.added_by) == ("new-thing", True, ada.id)
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.user_id, event.package_id) == (
        "trusted publisher added",
        ada.id,
        None,
    )

    status, page = post(as_ada, URL + "/remove", publisher_id=str(added.id))

    assert status == 200
    assert "You have no pending publishers." in page
    assert publishers(db) == []


def test_an_existing_project_is_not_pending(as_ada: TestClient, db: Session, make: Factory) -> None:
    make.package("new-thing", owner=make.user(email="eve@example.com"))
    status, page = post(as_ada, URL, project="new-thing", **GITHUB)
    assert status == 400
    assert "exists already" in page
    assert publishers(db) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"project": "not a name!", **GITHUB}, "not a valid project name"),
        ({"project": "new-thing", "kind": "github", "repository": "acme"}, "OWNER/REPO"),
    ],
)
def test_refusals_say_why(
    as_ada: TestClient, db: Session, fields: dict[str, str], message: str
) -> None:
    status, page = post(as_ada, URL, **fields)
    assert status == 400
    assert message in page
    assert publishers(db) == []


def test_nobody_removes_another_accounts_pending_publisher(
    as_ada: TestClient, db: Session, make: Factory
) -> None:
    eve = make.user(email="eve@example.com")
    theirs = TrustedPublisher(
        project_id="evil", project_name="evil", kind=PublisherKind.GITHUB, issuer="https://x.test",
        repository="eve/evil", workflow="r.yml", claims={}, pending=True, added_by=eve.id,
    )  # fmt: skip
    db.add(theirs)
    db.flush()
    fields = {"csrf_token": csrf_from(as_ada, URL), "publisher_id": str(theirs.id)}
    response = as_ada.post(URL + "/remove", data=fields)
    assert response.status_code == 404
    assert publishers(db) == [theirs]
    assert db.get(Package, "evil") is None
