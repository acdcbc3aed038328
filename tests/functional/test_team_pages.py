"""Teams on the web: administrators create teams and choose members at /teams/ and on a
team's page; members see their teams; everyone else is refused and nothing changes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.team import Team
from wheelyard.services.access import teams
from wheelyard.services.audit import Origin


def post(client: TestClient, url: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, "/account")
    response = client.post(url, data=fields, follow_redirects=False)
    return response.status_code, response.text


def team_audit(db: Session) -> list[tuple[str, str | None]]:
    query = sa.select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.action.like("team%"))
    return [(row.action, row.detail) for row in db.execute(query.order_by(AuditEvent.id))]


def test_an_admin_creates_a_team_and_chooses_its_members(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="admin@example.com", is_admin=True)
    make.user(name="Grace", email="grace@example.com")
    log_in(client, "admin@example.com")
    assert "Create a team" in client.get("/teams/").text
    status, _ = post(client, "/teams/create", name="Crew")
    assert status == 303
    page = client.get("/team/crew/").text
    assert "Team Crew is created" in page
    assert post(client, "/team/crew/members/add", email="grace@example.com")[0] == 303
    page = client.get("/team/crew/").text
    assert "Grace is a member of team Crew." in page and "grace@example.com" in page
    assert 'href="/team/crew/"' in client.get("/teams/").text
    assert post(client, "/team/crew/members/remove", email="grace@example.com")[0] == 303
    crew = teams.find(db, "crew")
    assert crew is not None and teams.members_of(db, crew) == []
    assert team_audit(db) == [
        ("team created", "team Crew"),
        ("team member added", "grace@example.com to team Crew"),
        ("team member removed", "grace@example.com from team Crew"),
    ]


def test_bad_team_forms_say_why_and_change_nothing(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="admin@example.com", is_admin=True)
    teams.create(db, "crew", actor=None, origin=Origin())
    db.flush()
    log_in(client, "admin@example.com")
    status, body = post(client, "/teams/create", name="-bad name-")
    assert status == 400 and "A team name has 1 to 50" in body
    status, body = post(client, "/teams/create", name="Crew")
    assert status == 400 and "There is already a team named" in body
    status, body = post(client, "/team/crew/members/add", email="nobody@example.com")
    assert status == 400 and "There is no account with that email address." in body
    status, body = post(client, "/team/crew/members/remove", email="admin@example.com")
    assert status == 400 and "is not a member of team crew" in body
    status, _ = post(client, "/team/nobody/members/add", email="admin@example.com")
    assert status == 404
    status, _ = post(client, "/teams/create", name="x" * 5000)
    assert status == 400
    response = client.post("/teams/create", data={"name": "sneaky"})
    assert response.status_code == 403  # no CSRF token
    assert db.scalar(sa.select(sa.func.count()).select_from(Team)) == 1
    assert team_audit(db) == [("team created", "team crew (command line)")]


def test_members_see_their_teams_but_only_admins_change_them(
    client: TestClient, db: Session, make: Factory
) -> None:
    member = make.user(name="Grace", email="grace@example.com")
    make.user(email="stranger@example.com")
    crew = teams.create(db, "Crew", actor=None, origin=Origin())
    teams.create(db, "Other", actor=None, origin=Origin())
    teams.add_member(db, crew, member.email, actor=None, origin=Origin())
    db.flush()
    assert client.get("/teams/", follow_redirects=False).status_code == 303
    log_in(client, "grace@example.com")
    listing = client.get("/teams/").text
    assert 'href="/team/crew/"' in listing and "Other" not in listing
    assert "Create a team" not in listing
    page = client.get("/team/crew/").text
    assert "Add a member" not in page and "grace@example.com" not in page
    assert post(client, "/teams/create", name="mine")[0] == 403
    assert post(client, "/team/crew/members/add", email="stranger@example.com")[0] == 403
    log_in(client, "stranger@example.com")
    assert "not a member of any team" in client.get("/teams/").text
    # A stranger cannot learn that a team exists, not even from the forms.
    assert post(client, "/team/crew/members/remove", email="grace@example.com")[0] == 404
    assert teams.members_of(db, crew) == [member]
    assert teams.find(db, "mine") is None
