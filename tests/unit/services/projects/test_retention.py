"""Retention rules: which pre-releases a rule removes, and that removing them is a deletion."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.audit import audit_actions
from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.package import Package
from wheelyard.data.retention_rule import RetentionRule
from wheelyard.services.audit import Origin
from wheelyard.services.projects import retention

ORIGIN = Origin("127.0.0.1", "tests")
NOW = dt.datetime(2026, 6, 1, 12, 0)


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def project(make: Factory, name: str, releases: dict[str, int]) -> Package:
    """A project with each version uploaded that many days before NOW."""
    package = make.package(name, versions=())
    for version, age in releases.items():
        make.release(package, version, created=days_ago(age))
    make.db.expire(package)
    return package


def planned(db: Session) -> list[tuple[str, str]]:
    return [(r.project_id, r.version) for r in retention.plan(db, NOW)]


def site_rule(db: Session, days: int, keep: int) -> None:
    retention.set_rule(db, None, days=days, keep=keep, actor_id=None, origin=ORIGIN)


def test_old_pre_releases_beyond_the_newest_k_go(db: Session, make: Factory) -> None:
    project(
        make,
        "demo",
        {"1.0": 400, "2.0a1": 300, "2.0b1": 200, "2.0rc1": 100, "2.0": 90, "2.1.dev3": 50},
    )
    site_rule(db, 60, 1)
    # 2.1.dev3 is the newest pre-release (kept: keep=1) and too young anyway; the finals stay.
    assert planned(db) == [("demo", "2.0rc1"), ("demo", "2.0b1"), ("demo", "2.0a1")]
    site_rule(db, 150, 1)
    assert planned(db) == [("demo", "2.0b1"), ("demo", "2.0a1")]
    site_rule(db, 60, 3)
    assert planned(db) == [("demo", "2.0a1")]
    site_rule(db, 0, 0)
    # Days 0 and keep 0: every pre-release but the latest one (2.1.dev3 is newest).
    assert planned(db) == [("demo", "2.0rc1"), ("demo", "2.0b1"), ("demo", "2.0a1")]


def test_final_releases_are_never_removed(db: Session, make: Factory) -> None:
    project(make, "finals", {"0.1": 900, "0.2": 800, "1.0": 700, "1.0.post1": 600})
    # Not PEP 440 (imported legacy data): stored as a pre-release, yet nobody knows it is one.
    project(make, "legacy", {"2004d": 900, "2005a": 800, "2.0": 1})
    site_rule(db, 0, 0)
    assert planned(db) == []


def test_the_latest_release_is_never_removed(db: Session, make: Factory) -> None:
    # Only pre-releases, all old: the newest by version stays, and so does the newest upload
    # (3.0a1 was uploaded after 4.0a1, a backport's pre-release).
    project(make, "pre-only", {"1.0a1": 500, "2.0a1": 400, "4.0a1": 300, "3.0a1": 200})
    site_rule(db, 30, 0)
    assert planned(db) == [("pre-only", "2.0a1"), ("pre-only", "1.0a1")]
    project(make, "one", {"0.1.dev1": 1000})
    assert ("one", "0.1.dev1") not in planned(db)


def test_a_project_rule_overrides_the_site_rule(db: Session, make: Factory) -> None:
    project(make, "strict", {"1.0": 400, "1.1a1": 300, "1.1a2": 200, "1.1": 10})
    loose = project(make, "loose", {"1.0": 400, "1.1a1": 300, "1.1a2": 200, "1.1": 10})
    site_rule(db, 30, 0)
    retention.set_rule(db, loose, days=1000, keep=0, actor_id=None, origin=ORIGIN)
    assert planned(db) == [("strict", "1.1a2"), ("strict", "1.1a1")]
    assert retention.rule_for(db, loose) == retention.Rule("loose", 1000, 0)
    retention.clear_rule(db, None, actor_id=None, origin=ORIGIN)
    # No site rule: a project without a rule of its own keeps everything.
    assert planned(db) == []
    retention.set_rule(db, loose, days=30, keep=1, actor_id=None, origin=ORIGIN)
    assert planned(db) == [("loose", "1.1a1")]


def test_set_replaces_clear_removes_both_audited(db: Session, make: Factory) -> None:
    package = project(make, "demo", {"1.0": 1})
    site_rule(db, 30, 2)
    site_rule(db, 40, 3)
    retention.set_rule(db, package, days=5, keep=1, actor_id=None, origin=ORIGIN)
    assert db.scalar(sa.select(sa.func.count()).select_from(RetentionRule)) == 2
    assert retention.all_rules(db) == [retention.Rule(None, 40, 3), retention.Rule("demo", 5, 1)]
    assert retention.clear_rule(db, package, actor_id=None, origin=ORIGIN)
    assert not retention.clear_rule(db, package, actor_id=None, origin=ORIGIN)
    assert retention.rule_for(db, package) == retention.Rule(None, 40, 3)
    assert audit_actions(db) == [
        "retention rule set",
        "retention rule set",
        "retention rule set",
        "retention rule cleared",
    ]
    package_ids = db.scalars(sa.select(AuditEvent.package_id).order_by(AuditEvent.id))
    assert list(package_ids) == [None, None, "demo", "demo"]


@pytest.mark.parametrize(("days", "keep"), [(-1, 0), (0, -1), (36_501, 0), (0, 100_001)])
def test_out_of_range_numbers_are_refused(db: Session, days: int, keep: int) -> None:
    with pytest.raises(retention.RetentionError, match="whole number"):
        site_rule(db, days, keep)
    assert retention.all_rules(db) == []


@pytest.mark.parametrize("text", ["", "x", "-1", "1.5", "٣", "99999999999999999999"])
def test_numbers_that_are_not_whole_numbers_are_refused(text: str) -> None:
    with pytest.raises(retention.RetentionError, match="whole number"):
        retention.parse_number(text, "number of days", retention.MAX_DAYS)


def test_apply_deletes_as_an_owner_does_with_the_rule_as_reason(db: Session, make: Factory) -> None:
    project(make, "demo", {"1.0": 400, "2.0a1": 300, "2.0": 10})
    site_rule(db, 30, 0)
    removals = retention.plan(db, NOW)
    filename = "demo-2.0a1-py3-none-any.whl"
    blobs = retention.apply(db, removals, origin=ORIGIN)
    assert blobs == []  # the factory's files have no stored blob
    db.expire_all()
    assert [r.version for r in db.get_one(Package, "demo").releases] == ["2.0", "1.0"]
    # The name stays taken, as after any deletion.
    assert db.scalar(sa.select(FileRegistry).where(FileRegistry.filename == filename))
    entry = db.scalars(sa.select(JournalEntry).order_by(JournalEntry.id.desc())).first()
    assert entry is not None
    assert (entry.action, entry.version, entry.user_id) == ("remove release", "2.0a1", None)
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.package_id) == ("remove release", "demo")
    assert event.detail == (
        "2.0a1: retention (site-wide rule): pre-releases older than 30 days beyond the newest 0"
    )
    assert retention.plan(db, NOW) == []
