from __future__ import annotations

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.services import audit


def test_events_are_listed_newest_first_per_user_and_package(db: Session, make: Factory) -> None:
    user = make.user()
    package = make.package("audited", owner=user)
    origin = audit.Origin(ip_address="127.0.0.1", user_agent="x" * 600)
    audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id)
    audit.record(db, audit.Action.UPLOAD, user_id=user.id, package_id=package.id, detail="f.whl")
    db.flush()

    for_user = audit.recent_for_user(db, user.id)
    assert [event.action for event in for_user] == [audit.Action.UPLOAD, audit.Action.LOGIN]
    assert for_user[1].ip_address == "127.0.0.1"
    assert len(for_user[1].user_agent or "") == 512
    assert [event.detail for event in audit.recent_for_package(db, package.id)] == ["f.whl"]


def test_every_action_has_wording_and_old_values_show_as_stored() -> None:
    assert set(audit.WORDING) == set(audit.Action)
    assert len(set(audit.WORDING.values())) == len(audit.Action)
    assert audit.describe("token used") == "API token used to upload"
    assert audit.describe("an action since retired") == "an action since retired"


def test_a_row_stores_the_actions_plain_value(db: Session, make: Factory) -> None:
    event = audit.record(db, audit.Action.TWO_FACTOR_ENABLED, user_id=make.user().id)
    db.flush()
    db.expire(event)
    assert type(event.action) is str and event.action == "two-factor enabled"
