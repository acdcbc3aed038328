"""Adding downloads to the daily rollups: by day, by category, mirrors apart, for good."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.helpers.download_rollups import (
    BANDERSNATCH,
    MIDNIGHT,
    PIP,
    TODAY,
    UV,
    at,
    clear_rollups,
    raw_rows,
    rollups,
)
from tests.helpers.factories import Factory
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.rebuild import rebuild_rollups
from wheelyard.services.analytics.recorder import store_downloads


def test_a_batch_across_midnight_counts_on_both_days(
    db: Session, release_file: ReleaseFile
) -> None:
    before = MIDNIGHT - dt.timedelta(microseconds=1)
    store_downloads(
        db,
        [
            at(release_file, before - dt.timedelta(hours=1)),
            at(release_file, before),
            at(release_file, MIDNIGHT),
            at(release_file, MIDNIGHT + dt.timedelta(seconds=1), UV),
        ],
    )
    counts, breakdowns = rollups(db)
    yesterday = TODAY - dt.timedelta(days=1)
    assert counts == [("counted", yesterday, False, 2), ("counted", TODAY, False, 2)]
    installers = [(day, c, n) for _, d, day, c, _, n in breakdowns if d == "installer"]
    assert installers == [(yesterday, "pip", 2), (TODAY, "pip", 1), (TODAY, "uv", 1)]


def test_mirrors_are_flagged(db: Session, release_file: ReleaseFile) -> None:
    agents = (BANDERSNATCH, "devpi-server/6.10.0 (py3.11.4; linux)", "z3c.pypimirror/1.0.16")
    store_downloads(db, [at(release_file, MIDNIGHT, agent) for agent in (*agents, PIP)])
    assert [(r.is_mirror, r.installer) for r in raw_rows(db)] == [
        (True, "bandersnatch"),
        (True, "devpi"),
        (True, "other"),
        (False, "pip"),
    ]
    counts, _ = rollups(db)
    assert counts == [("counted", TODAY, False, 1), ("counted", TODAY, True, 3)]


def test_deleting_a_release_or_file_keeps_its_counts(
    db: Session, make: Factory, release_file: ReleaseFile
) -> None:
    package = release_file.release.package
    second = make.release(package, "2.0")
    sdist = make.file(second, packagetype="sdist")
    db.flush()
    store_downloads(
        db,
        [
            at(release_file, MIDNIGHT),
            at(second.files[0], MIDNIGHT),
            at(sdist, MIDNIGHT + dt.timedelta(minutes=1)),
        ],
    )
    before = rollups(db)

    db.delete(release_file.release)
    second.files.remove(sdist)
    db.flush()
    db.expire_all()

    first, second_wheel, removed_sdist = raw_rows(db)
    assert (first.release_id, first.file_id, first.version) == (None, None, "1.0")
    assert second_wheel.file_id is not None
    assert (removed_sdist.file_id, removed_sdist.packagetype) == (None, "sdist")
    assert rollups(db) == before
    clear_rollups(db)
    rebuild_rollups(db)
    assert rollups(db) == before
