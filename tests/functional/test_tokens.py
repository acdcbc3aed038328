"""The API token pages: create (shown once), list, revoke."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from
from tests.helpers.factories import Factory
from wheelyard.data.api_token import ApiToken, TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Role
from wheelyard.data.user import User
from wheelyard.services.access import teams
from wheelyard.services.accounts import tokens
from wheelyard.services.audit import Origin

_SECRET = re.compile(r"wheelyard-[A-Za-z0-9_-]{40,}")


def create(client: TestClient, **fields: str) -> tuple[int, str]:
    data = {"description": "laptop", "scope": "", "expires_in_days": "", **fields}
    data["csrf_token"] = csrf_from(client, "/account/tokens")
    response = client.post("/account/tokens", data=data)
    return response.status_code, response.text


def audit_actions(db: Session) -> list[str]:
    query = sa.select(AuditEvent.action).where(AuditEvent.action.like("token%"))
    return list(db.scalars(query.order_by(AuditEvent.id)))


def test_token_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/account/tokens", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Faccount%2Ftokens"


def test_create_shows_the_secret_once_and_stores_its_hash(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    data = {"description": "CI job", "scope": "", "expires_in_days": "30"}
    data["csrf_token"] = csrf_from(client, "/account/tokens")
    response = client.post("/account/tokens", data=data)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert "shown only on this page" in page
    assert "repository = http://testserver/legacy/" in page
    match = _SECRET.search(page)
    assert match
    secret = match.group(0)
    token = tokens.find_valid_token(db, secret)
    assert token is not None and token.user_id == logged_in_ada.id
    assert token.description == "CI job"
    assert token.expires is not None
    listing = client.get("/account/tokens")
    assert listing.headers["cache-control"] == "no-store"
    assert "CI job" in listing.text
    assert secret not in listing.text
    # Copied as it is, the line uploads here, not to PyPI.
    assert "twine upload --repository-url http://testserver/legacy/ -u __token__" in listing.text
    assert audit_actions(db) == ["token created"]


def test_a_token_scoped_to_one_project(
    client: TestClient, db: Session, make: Factory, logged_in_ada: User
) -> None:
    make.package("mine", owner=logged_in_ada)
    assert "Only mine" in client.get("/account/tokens").text
    status, _ = create(client, scope="mine")
    assert status == 200
    token = db.scalars(sa.select(ApiToken)).one()
    assert token.package_id == "mine"


def test_a_token_scoped_to_a_project_held_through_a_team(
    client: TestClient, db: Session, make: Factory, logged_in_ada: User
) -> None:
    shared = make.package("team-held", owner=make.user())
    crew = teams.create(db, "crew", actor=None, origin=Origin())
    teams.add_member(db, crew, logged_in_ada.email, actor=None, origin=Origin())
    teams.grant(db, crew, shared, Role.MAINTAINER, actor=None, origin=Origin())
    assert "Only team-held" in client.get("/account/tokens").text
    status, page = create(client, scope="team-held")
    assert status == 200, page
    token = db.scalars(sa.select(ApiToken)).one()
    assert token.package_id == "team-held"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": ""}, "Give the token a description."),
        ({"description": "x" * 201}, "longer than 200 characters"),
        ({"scope": "someone-elses"}, "one that you maintain"),
        ({"expires_in_days": "0"}, "whole number of days"),
        ({"expires_in_days": "-3"}, "whole number of days"),
        ({"expires_in_days": "soon"}, "whole number of days"),
        ({"expires_in_days": "99999999999999999999"}, "whole number of days"),
        ({"expires_in_days": "١٢"}, "whole number of days"),
        ({"permission": "admin"}, "Choose read (install) only, or upload and install."),
    ],
)
def test_create_refuses_bad_fields(
    client: TestClient,
    db: Session,
    make: Factory,
    logged_in_ada: User,
    fields: dict[str, str],
    message: str,
) -> None:
    make.package("someone-elses", owner=make.user())
    status, page = create(client, **fields)
    assert status == 400
    assert message in page
    assert not _SECRET.search(page)
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_a_read_only_token_is_made_and_listed_as_such(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    status, page = create(client, description="installs", permission="read")
    assert status == 200
    match = _SECRET.search(page)
    assert match
    token = tokens.find_valid_token(db, match.group(0))
    assert token is not None and token.scope is TokenScope.READ
    assert "Read (install) only" in client.get("/account/tokens").text
    # Without a choice (a form from before permissions), a token uploads as it always did.
    status, page = create(client, description="old form")
    match = _SECRET.search(page)
    assert match
    token = tokens.find_valid_token(db, match.group(0))
    assert token is not None and token.scope is TokenScope.UPLOAD


def test_create_refuses_a_wrong_csrf_token(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    response = client.post("/account/tokens", data={"csrf_token": "nope", "description": "x"})
    assert response.status_code == 403
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_revoke_deletes_the_token(client: TestClient, db: Session, logged_in_ada: User) -> None:
    token, secret = tokens.create_token(db, logged_in_ada, description="old laptop")
    response = client.post(
        "/account/tokens/revoke",
        data={"csrf_token": csrf_from(client, "/account/tokens"), "token_id": str(token.id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert tokens.find_valid_token(db, secret) is None
    assert "old laptop" not in client.get("/account/tokens").text
    assert audit_actions(db) == ["token revoked"]


@pytest.mark.parametrize("token_id", ["", "abc", "-1", "99999999999999999999999", "123456"])
def test_revoke_refuses_bad_or_unknown_ids(
    client: TestClient, logged_in_ada: User, token_id: str
) -> None:
    response = client.post(
        "/account/tokens/revoke",
        data={"csrf_token": csrf_from(client, "/account/tokens"), "token_id": token_id},
    )
    assert response.status_code in (400, 404)


def test_only_the_owner_revokes(
    client: TestClient, db: Session, make: Factory, logged_in_ada: User
) -> None:
    other = make.user()
    token, secret = tokens.create_token(db, other, description="theirs")
    response = client.post(
        "/account/tokens/revoke",
        data={"csrf_token": csrf_from(client, "/account/tokens"), "token_id": str(token.id)},
    )
    assert response.status_code == 404
    assert tokens.find_valid_token(db, secret) is not None
    assert "theirs" not in client.get("/account/tokens").text


def test_a_form_with_errors_keeps_what_was_typed(
    client: TestClient, db: Session, make: Factory, logged_in_ada: User
) -> None:
    make.package("mine", owner=logged_in_ada)
    status, page = create(client, description="deploy", scope="mine", expires_in_days="x")
    assert status == 400
    assert 'value="deploy"' in page
    assert '<option value="mine" selected>' in page
