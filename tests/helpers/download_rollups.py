"""Downloads made to order and the rollup rows they add up to, for the analytics tests.

The recorder, the rebuild and the pruning are checked against the same picture of the
rollups (``rollups``), which first checks that the months are the days summed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download import Download
from wheelyard.data.download_breakdown import DownloadBreakdown, DownloadBreakdownMonth
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics.recorder import DownloadEvent
from wheelyard.services.analytics.rollups import month_of

PIP = (
    'pip/24.0 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc",'
    '"version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":'
    '{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"24.0"},'
    '"openssl_version":"OpenSSL 3.0.11 19 Sep 2023","python":"3.11.7","rustc_version":'
    '"1.75.0","setuptools_version":"69.0.3","system":{"name":"Linux","release":'
    '"6.1.0-17-amd64"}}'
)
UV = (
    'uv/0.4.18 {"installer":{"name":"uv","version":"0.4.18"},"python":"3.12.6",'
    '"implementation":{"name":"CPython","version":"3.12.6"},"distro":{"name":"macOS",'
    '"version":"14.6","id":null,"libc":null},"system":{"name":"Darwin","release":"23.6.0"},'
    '"cpu":"arm64","openssl_version":null,"setuptools_version":null,"rustc_version":null,'
    '"ci":null}'
)
BANDERSNATCH = "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)"
TODAY = clock.today()
MIDNIGHT = clock.start_of(TODAY)

Rollups = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


def event(release_file: ReleaseFile, agent: str = "pip/26.0") -> DownloadEvent:
    """A download of ``release_file`` now, as the file handler records it."""
    return DownloadEvent.of(release_file, "192.0.2.1", agent)


def at(release_file: ReleaseFile, when: dt.datetime, agent: str | None = PIP) -> DownloadEvent:
    """A download of ``release_file`` at ``when``."""
    return dataclasses.replace(event(release_file, agent or ""), created_date=when)


def raw_rows(db: Session) -> list[Download]:
    return list(db.scalars(sa.select(Download).order_by(Download.id)))


def rollups(db: Session) -> Rollups:
    """Both daily rollup tables' rows, without created_date, in key order; first checks that
    the monthly rows are exactly the daily breakdowns summed by month."""
    assert months(db) == months_from_days(db)
    counts = db.execute(
        sa.select(
            DownloadCount.package_id,
            DownloadCount.day,
            DownloadCount.is_mirror,
            DownloadCount.downloads,
        ).order_by(DownloadCount.package_id, DownloadCount.day, DownloadCount.is_mirror)
    )
    breakdowns = db.execute(
        sa.select(
            DownloadBreakdown.package_id,
            DownloadBreakdown.dimension,
            DownloadBreakdown.day,
            DownloadBreakdown.category,
            DownloadBreakdown.is_mirror,
            DownloadBreakdown.downloads,
        ).order_by(
            DownloadBreakdown.package_id,
            DownloadBreakdown.dimension,
            DownloadBreakdown.day,
            DownloadBreakdown.category,
            DownloadBreakdown.is_mirror,
        )
    )
    return [tuple(row) for row in counts], [tuple(row) for row in breakdowns]


def months(db: Session) -> dict[tuple[object, ...], int]:
    m = DownloadBreakdownMonth
    found = db.execute(
        sa.select(m.package_id, m.dimension, m.month, m.category, m.is_mirror, m.downloads)
    )
    return {tuple(key): n for *key, n in found}


def months_from_days(db: Session) -> dict[tuple[object, ...], int]:
    b = DownloadBreakdown
    summed: Counter[tuple[object, ...]] = Counter()
    for package_id, dimension, day, category, mirror, n in db.execute(
        sa.select(b.package_id, b.dimension, b.day, b.category, b.is_mirror, b.downloads)
    ):
        summed[package_id, dimension, month_of(day), category, mirror] += n
    return dict(summed)


def clear_rollups(db: Session) -> None:
    db.execute(sa.delete(DownloadCount))
    db.execute(sa.delete(DownloadBreakdown))
    db.execute(sa.delete(DownloadBreakdownMonth))
