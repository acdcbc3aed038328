"""Owners granting roles to Readers and teams on /manage/project/<name>/, and team pages."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services.access import roles, teams
from wheelyard.services.audit import Origin

URL = "/manage/project/demo/"


def post(client: TestClient, action: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, URL)
    response = client.post(URL + action, data=fields, follow_redirects=False)
    return response.status_code, response.text


def audit_rows(db: Session) -> list[tuple[str, str | None]]:
    query = sa.select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.package_id == "demo")
    return [(row.action, row.detail) for row in db.execute(query.order_by(AuditEvent.id))]


def test_an_owner_grants_a_reader_who_cannot_manage(
    client: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    reader = make.user(email="reader@example.com")
    log_in(client, "owner@example.com")
    assert "<option>Reader</option>" in client.get(URL).text
    assert post(client, "maintainers/add", email="reader@example.com", role="Reader")[0] == 303
    assert roles.effective_role(db, reader.id, "demo") == Role.READER
    assert ("add maintainer", "reader@example.com as Reader") in audit_rows(db)
    log_in(client, "reader@example.com")
    assert client.get(URL).status_code == 403
    token = csrf_from(client, "/account")
    response = client.post(URL + "require-2fa", data={"csrf_token": token, "require": "0"})
    assert response.status_code == 403


def test_an_owner_grants_changes_and_revokes_a_teams_role(
    client: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    member = make.user(email="member@example.com")
    crew = teams.create(db, "Crew", actor=None, origin=Origin())
    teams.add_member(db, crew, member.email, actor=None, origin=Origin())
    db.flush()
    log_in(client, "owner@example.com")
    status, body = post(client, "teams/grant", team="crew", role="Maintainer")
    assert status == 303, body
    assert roles.effective_role(db, member.id, "demo") == Role.MAINTAINER
    page = client.get(URL).text
    assert 'href="/team/crew/"' in page
    assert post(client, "teams/grant", team="Crew", role="Owner")[0] == 303
    assert roles.can_manage(db, member, package)
    assert post(client, "teams/revoke", team="crew")[0] == 303
    assert roles.effective_role(db, member.id, "demo") is None
    assert audit_rows(db) == [
        ("team role granted", "team Crew as Maintainer"),
        ("team role granted", "team Crew as Owner"),
        ("team role revoked", "team Crew"),
    ]


def test_bad_team_changes_are_refused_with_the_reason(
    client: TestClient, db: Session, owner: User, package: Package
) -> None:
    log_in(client, "owner@example.com")
    status, body = post(client, "teams/grant", team="nobody", role="Reader")
    assert status == 400 and "There is no team named “nobody”" in body
    teams.create(db, "crew", actor=None, origin=Origin())
    db.flush()
    status, body = post(client, "teams/grant", team="crew", role="Emperor")
    assert status == 400 and "Unknown role" in body
    status, body = post(client, "teams/revoke", team="crew")
    assert status == 400 and "holds no role" in body
    response = client.post(URL + "teams/grant", data={"team": "crew", "role": "Reader"})
    assert response.status_code == 403  # no CSRF token
    assert audit_rows(db) == []


def test_team_pages_list_members_and_projects_to_members_and_admins_only(
    client: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    member = make.user(name="Grace", email="member@example.com")
    make.user(email="stranger@example.com")
    make.user(email="admin@example.com", is_admin=True)
    crew = teams.create(db, "Crew", actor=None, origin=Origin())
    teams.add_member(db, crew, member.email, actor=None, origin=Origin())
    teams.grant(db, crew, package, Role.READER, actor=None, origin=Origin())
    db.flush()
    assert client.get("/team/crew/", follow_redirects=False).status_code == 303
    log_in(client, "stranger@example.com")
    assert client.get("/team/crew/").status_code == 404
    for email in ("member@example.com", "admin@example.com"):
        log_in(client, email)
        page = client.get("/team/Crew/")
        assert page.url.path == "/team/crew/"
        assert "Grace" in page.text and 'href="/project/demo/"' in page.text
        assert "Reader" in page.text
    assert client.get("/team/nobody/").status_code == 404
