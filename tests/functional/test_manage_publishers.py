"""Owners adding and removing trusted publishers on their project's manage page."""

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
from wheelyard.services.oidc import publishers as publishers_service

URL = "/manage/project/demo/"


def post(client: TestClient, action: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, URL)
    response = client.post(URL + action, data=fields, follow_redirects=True)
    return response.status_code, response.text


def publishers(db: Session) -> list[TrustedPublisher]:
    return list(db.scalars(sa.select(TrustedPublisher).order_by(TrustedPublisher.id)))


def test_an_owner_adds_and_removes_a_github_publisher(
    as_owner: TestClient, db: Session, owner: User
) -> None:
    status, page = post(
        as_owner,
        "publishers/add",
        kind="github",
        repository="acme/demo",
        workflow="release.yml",
        environment="pypi",
    )
    assert status == 200
    assert "Trusted publisher added: acme/demo by release.yml (environment pypi)." in page
    [added] = publishers(db)
    assert (added.kind, added.repository, added.added_by, added.pending) == (
        PublisherKind.GITHUB,
        "acme/demo",
        owner.id,
        False,
    )
    assert "acme/demo by release.yml" in as_owner.get(URL).text

    status, page = post(as_owner, "publishers/remove", publisher_id=str(added.id))

    assert status == 200
    assert "Trusted publisher removed" in page
    assert publishers(db) == []
    actions = db.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.package_id == "demo").order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["trusted publisher added", "trusted publisher removed"]


def test_a_gitlab_publisher_from_the_form(as_owner: TestClient, db: Session) -> None:
    status, page = post(
        as_owner, "publishers/add", kind="gitlab", repository="acme/tools/demo",
        workflow=".gitlab-ci.yml",
    )  # fmt: skip
    assert status == 200, page
    assert publishers(db)[0].issuer == "https://gitlab.com"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "github", "repository": "acme", "workflow": "r.yml"}, "OWNER/REPO"),
        ({"kind": "github", "repository": "acme/demo"}, "workflow file"),
        ({"kind": "ftp"}, "Choose GitHub"),
        ({"kind": "oidc", "issuer": "https://ci.example.test", "claims": "sub=x"}, "not trusted"),
        ({"kind": "oidc", "issuer": publishers_service.GITHUB_ISSUER, "claims": "sub"}, "NAME="),
    ],
)  # fmt: skip
def test_a_refused_publisher_says_why_and_adds_nothing(
    as_owner: TestClient, db: Session, fields: dict[str, str], message: str
) -> None:
    status, page = post(as_owner, "publishers/add", **fields)
    assert status == 400
    assert message in page
    assert publishers(db) == []


def test_removing_another_projects_publisher_is_refused(as_owner: TestClient, db: Session) -> None:
    other = TrustedPublisher(
        project_id="other", project_name="other", kind=PublisherKind.OIDC,
        issuer="https://ci.example.test", claims={"sub": "x"}, pending=True,
    )  # fmt: skip
    db.add(other)
    db.flush()
    status, _page = post(as_owner, "publishers/remove", publisher_id=str(other.id))
    assert status == 400
    assert publishers(db) == [other]


def test_strangers_cannot_add(
    client: TestClient, db: Session, make: Factory, package: Package
) -> None:
    make.user(email="stranger@example.com")
    log_in(client, "stranger@example.com")
    token = csrf_from(client, "/account")
    response = client.post(
        URL + "publishers/add",
        data={"csrf_token": token, "kind": "github", "repository": "a/b", "workflow": "r.yml"},
    )
    assert response.status_code == 403
    assert publishers(db) == []
