"""Retention: pre-releases and dev releases that have had their day, and removing them.

A rule says "beyond the newest ``keep`` pre-releases (dev releases count as pre-releases,
as in PEP 440), remove those uploaded more than ``days`` days ago". A project's own rule
overrides the site-wide one. Final releases are never removed, and neither is a project's
latest release: not the newest by version, not the newest uploaded.

``plan`` says what a rule would remove now; ``apply`` removes exactly what ``plan`` says,
through the same removal an owner's "delete release" uses (admin.remove_release), so
journal entries (mirrors and caches follow them), audit rows and blobs are as for a manual
removal. The caller owns the transaction and deletes the returned blobs after its commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard import versions
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.retention_rule import RetentionRule
from wheelyard.services import audit, clock
from wheelyard.services.audit import Origin
from wheelyard.services.projects import admin

# A century of days, and more releases than any project keeps: beyond them a number is a typo.
MAX_DAYS = 36_500
MAX_KEEP = 100_000


class RetentionError(ValueError):
    """A rule that cannot be set as asked; the message is for the user."""


@dataclass(frozen=True)
class Rule:
    """A rule as read: whose it is (None: site-wide), and its numbers."""

    project_id: str | None
    days: int
    keep: int

    def describe(self) -> str:
        whose = f"project rule for {self.project_id}" if self.project_id else "site-wide rule"
        return (
            f"retention ({whose}): pre-releases older than {self.days} days "
            f"beyond the newest {self.keep}"
        )


@dataclass(frozen=True)
class Removal:
    """One release a rule removes, and the rule that removes it."""

    project_id: str
    project_name: str
    version: str
    uploaded: dt.datetime
    rule: Rule

    def line(self) -> str:
        return f"{self.project_name} {self.version} (uploaded {self.uploaded:%Y-%m-%d})"


def parse_number(text: str, what: str, maximum: int) -> int:
    """A whole number from a form or the command line, or the reason it is not one."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        raise RetentionError(f"The {what} must be a whole number from 0 to {maximum:,}.")
    return check_number(int(text), what, maximum)


def check_number(value: int, what: str, maximum: int) -> int:
    if not 0 <= value <= maximum:
        raise RetentionError(f"The {what} must be a whole number from 0 to {maximum:,}.")
    return value


def _row(db: Session, project_id: str | None) -> RetentionRule | None:
    column = RetentionRule.project_id
    where = column.is_(None) if project_id is None else column == project_id
    return db.scalars(sa.select(RetentionRule).where(where).order_by(RetentionRule.id)).first()


def _rule(row: RetentionRule) -> Rule:
    return Rule(row.project_id, row.days, row.keep)


def rule_of(db: Session, project_id: str | None) -> Rule | None:
    """The rule set for this project (or, with None, the site-wide one); not inherited."""
    row = _row(db, project_id)
    return _rule(row) if row is not None else None


def rule_for(db: Session, package: Package) -> Rule | None:
    """The rule that applies to the project: its own, else the site-wide one, else none."""
    return rule_of(db, package.id) or rule_of(db, None)


def all_rules(db: Session) -> list[Rule]:
    """Every rule: the site-wide one first, then the projects' by name."""
    rows = db.scalars(
        sa.select(RetentionRule).order_by(
            RetentionRule.project_id.is_not(None), RetentionRule.project_id
        )
    )
    return [_rule(row) for row in rows]


def set_rule(
    db: Session,
    package: Package | None,
    *,
    days: int,
    keep: int,
    actor_id: int | None,
    origin: Origin,
) -> Rule:
    """Set the project's rule (or, with None, the site-wide one), replacing any before."""
    check_number(days, "number of days", MAX_DAYS)
    check_number(keep, "number of pre-releases to keep", MAX_KEEP)
    project_id = package.id if package is not None else None
    row = _row(db, project_id)
    if row is None:
        row = RetentionRule(project_id=project_id, days=days, keep=keep)
        db.add(row)
    else:
        row.days, row.keep = days, keep
    db.flush()
    rule = _rule(row)
    audit.record(
        db,
        audit.Action.RETENTION_SET,
        origin=origin,
        user_id=actor_id,
        package_id=project_id,
        detail=rule.describe(),
    )
    return rule


def clear_rule(
    db: Session, package: Package | None, *, actor_id: int | None, origin: Origin
) -> bool:
    """Remove the project's rule (or the site-wide one); False when there was none."""
    project_id = package.id if package is not None else None
    row = _row(db, project_id)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    audit.record(
        db,
        audit.Action.RETENTION_CLEARED,
        origin=origin,
        user_id=actor_id,
        package_id=project_id,
    )
    return True


def _protected(releases: list[Release]) -> set[int]:
    """The ids no rule removes: the newest by version and the newest uploaded."""
    if not releases:
        return set()
    newest_version = releases[0]  # Package.releases is newest first, in PEP 440 order
    newest_upload = max(releases, key=lambda release: (release.created_date, release.id))
    return {newest_version.id, newest_upload.id}


def _is_pre_release(release: Release) -> bool:
    """A PEP 440 pre-release or dev release. ``is_prerelease`` is also set for a version
    that is not PEP 440 at all (imported legacy data, "2004d"): nothing says what those are,
    so no rule removes them."""
    parsed = versions.parse(release.version)
    return parsed.is_valid and parsed.is_prerelease


def removals_for(package: Package, rule: Rule, now: dt.datetime) -> list[Removal]:
    """What ``rule`` removes from ``package`` at ``now``, newest version first."""
    releases = list(package.releases)
    protected = _protected(releases)
    pre_releases = [release for release in releases if _is_pre_release(release)]
    cutoff = now - dt.timedelta(days=rule.days)
    return [
        Removal(package.id, package.name, release.version, release.created_date, rule)
        for release in pre_releases[rule.keep :]
        if release.created_date < cutoff and release.id not in protected
    ]


def plan(db: Session, now: dt.datetime | None = None) -> list[Removal]:
    """Every release the rules remove now, by project name and then newest version first."""
    rules = {rule.project_id: rule for rule in all_rules(db)}
    if not rules:
        return []
    # Only projects with a pre-release have anything a rule could remove.
    query = (
        sa.select(Package)
        .where(Package.releases.any(Release.is_prerelease))
        .options(selectinload(Package.releases))
        .order_by(Package.id)
    )
    if None not in rules:
        # No site-wide rule: only the projects with their own.
        query = query.where(Package.id.in_([key for key in rules if key is not None]))
    moment = now or clock.now()
    removals: list[Removal] = []
    for package in db.scalars(query):
        rule = rules.get(package.id) or rules.get(None)
        if rule is not None:
            removals.extend(removals_for(package, rule, moment))
    return removals


def apply(db: Session, removals: list[Removal], *, origin: Origin) -> list[str]:
    """Remove each planned release as an owner's deletion does; returns the blobs to delete
    once the caller's transaction has committed."""
    blobs: list[str] = []
    for removal in removals:
        package = db.get_one(Package, removal.project_id)
        blobs += admin.remove_release(
            db,
            package,
            removal.version,
            actor=None,
            origin=origin,
            reason=removal.rule.describe(),
        )
    return blobs
