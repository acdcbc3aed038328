"""An owner sets and clears the project's retention rule on /manage/project/<name>/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.retention_rule import RetentionRule
from wheelyard.data.user import User
from wheelyard.services import clock
from wheelyard.services.audit import Origin
from wheelyard.services.projects import retention

URL = "/manage/project/demo/"


def post(client: TestClient, action: str, **fields: str) -> tuple[int, str]:
    fields["csrf_token"] = csrf_from(client, URL)
    response = client.post(URL + action, data=fields, follow_redirects=False)
    return response.status_code, response.text


def rules(db: Session) -> list[tuple[str | None, int, int]]:
    db.expire_all()
    rows = db.scalars(sa.select(RetentionRule).order_by(RetentionRule.id))
    return [(row.project_id, row.days, row.keep) for row in rows]


def audit_rows(db: Session) -> list[tuple[str, str | None, int | None]]:
    query = sa.select(AuditEvent.action, AuditEvent.package_id, AuditEvent.user_id).where(
        AuditEvent.action.startswith("retention")
    )
    return [
        (row.action, row.package_id, row.user_id)
        for row in db.execute(query.order_by(AuditEvent.id))
    ]


def retention_card(text: str) -> str:
    match = re.search(r'<section class="card" id="retention">(.*?)</section>', text, re.S)
    assert match is not None
    return match.group(1)


def old_pre_releases(make: Factory, package: Package) -> None:
    now = clock.now()
    for version, age in {"3.0a1": 300, "3.0a2": 200, "3.0b1": 100, "3.0rc1": 5}.items():
        make.release(package, version, created=now - dt.timedelta(days=age))
    make.db.expire(package)


def test_set_then_clear_the_project_rule(
    as_owner: TestClient, db: Session, make: Factory, owner: User, package: Package
) -> None:
    old_pre_releases(make, package)
    assert "No rule: cleanup removes none" in retention_card(as_owner.get(URL).text)

    status, _ = post(as_owner, "retention/set", days="90", keep="1")
    assert status == 303
    assert rules(db) == [("demo", 90, 1)]
    page = as_owner.get(URL).text
    assert "Retention rule set: pre-releases older than 90 days beyond the newest 1" in page
    card = retention_card(page)
    assert "This project's rule" in card
    # Keep 1 keeps the newest pre-release (3.0rc1, also the project's latest); the final
    # releases 1.0 and 2.0 are never due; the other three are older than 90 days.
    due = re.findall(r'<li class="mono">(\S+) ', card)
    assert due == ["3.0b1", "3.0a2", "3.0a1"]
    # Exactly what cleanup would remove now.
    assert due == [removal.version for removal in retention.plan(db)]
    assert 'name="days" min="0" max="36500" required value="90"' in card

    status, _ = post(as_owner, "retention/clear")
    assert status == 303
    assert rules(db) == []
    assert "Retention rule cleared." in as_owner.get(URL).text
    assert audit_rows(db) == [
        ("retention rule set", "demo", owner.id),
        ("retention rule cleared", "demo", owner.id),
    ]


def test_the_site_rule_shows_until_the_project_has_its_own(
    as_owner: TestClient, db: Session, make: Factory, package: Package
) -> None:
    old_pre_releases(make, package)
    retention.set_rule(db, None, days=150, keep=0, actor_id=None, origin=Origin())
    card = retention_card(as_owner.get(URL).text)
    assert "The site-wide rule applies" in card and "older than 150 days" in card
    assert re.findall(r'<li class="mono">(\S+) ', card) == ["3.0a2", "3.0a1"]
    assert "Clear this project" not in card
    assert post(as_owner, "retention/set", days="250", keep="0")[0] == 303
    card = retention_card(as_owner.get(URL).text)
    assert "This project's rule" in card
    assert re.findall(r'<li class="mono">(\S+) ', card) == ["3.0a1"]
    assert rules(db) == [(None, 150, 0), ("demo", 250, 0)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"days": "-1", "keep": "0"},
            "The number of days must be a whole number from 0 to 36,500.",
        ),
        ({"days": "abc", "keep": "0"}, "The number of days must be a whole number"),
        ({"days": "36501", "keep": "0"}, "The number of days must be a whole number"),
        ({"days": "1e3", "keep": "0"}, "The number of days must be a whole number"),
        ({"days": "10", "keep": ""}, "The number of pre-releases to keep must be a whole number"),
        ({"days": "10"}, "The number of pre-releases to keep must be a whole number"),
        ({"days": "10", "keep": "1" * 2000}, "pre-releases to keep must be a whole number"),
    ],
)
def test_bad_numbers_are_refused_and_change_nothing(
    as_owner: TestClient, db: Session, fields: dict[str, str], message: str
) -> None:
    status, text = post(as_owner, "retention/set", **fields)
    assert status == 400
    assert message in text
    assert rules(db) == []
    assert audit_rows(db) == []


def test_clearing_a_rule_that_is_not_there_is_refused(as_owner: TestClient, db: Session) -> None:
    retention.set_rule(db, None, days=1, keep=1, actor_id=None, origin=Origin())
    status, text = post(as_owner, "retention/clear")
    assert status == 400
    assert "This project has no retention rule of its own." in text
    assert rules(db) == [(None, 1, 1)]


def test_only_owners_set_rules(
    client: TestClient, db: Session, make: Factory, package: Package
) -> None:
    helper = make.user(email="helper@example.com")
    db.add(Maintainer(user=helper, package=package, role=Role.MAINTAINER))
    db.flush()
    log_in(client, "helper@example.com")
    token = csrf_from(client, "/account")
    response = client.post(
        URL + "retention/set", data={"csrf_token": token, "days": "1", "keep": "0"}
    )
    assert response.status_code == 403
    assert rules(db) == []


def test_setting_a_rule_needs_the_csrf_token(as_owner: TestClient, db: Session) -> None:
    response = as_owner.post(URL + "retention/set", data={"days": "1", "keep": "0"})
    assert response.status_code == 403
    assert rules(db) == []
