from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import Factory
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
