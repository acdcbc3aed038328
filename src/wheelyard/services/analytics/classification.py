"""The categories a raw download row is counted by: who downloaded (installer, Python,
system, mirror or not) and what (version, file type).

The recorder fills them as it writes each row. Rows stored without them (before the columns
existed, or imported) are classified later, by the rebuild, and until then no rollup counts
them: pruning checks ``unclassified_before`` so that it never deletes such rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download import Download
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.user_agents import parse_user_agent_cached

DOWNLOADS = cast(sa.Table, Download.__table__)
# Rows classified per UPDATE round when a rebuild meets rows stored without categories.
CLASSIFY_CHUNK = 5_000


def categories(user_agent: str | None) -> dict[str, Any]:
    """The raw row's category columns for a download by ``user_agent``."""
    # Parsed here, in the writer, not on the request path; the cache makes repeats free.
    client = parse_user_agent_cached(user_agent)
    return {
        "installer": client.installer,
        "python_minor": client.python_minor,
        "system": client.system_category,
        "is_mirror": client.is_mirror,
    }


def classify_raw_rows(db: Session, where: sa.ColumnElement[bool]) -> int:
    """Fill the category columns of raw rows stored without them (before they existed, or
    imported); returns how many rows were filled.

    Version and file type come from the release and file the row still links to; rows whose
    release is gone count as an unknown version.
    """
    from_links = {
        "version": sa.func.coalesce(
            DOWNLOADS.c.version,
            sa.select(Release.version)
            .where(Release.id == DOWNLOADS.c.release_id)
            .scalar_subquery(),
        ),
        "packagetype": sa.func.coalesce(
            DOWNLOADS.c.packagetype,
            sa.select(ReleaseFile.packagetype)
            .where(ReleaseFile.id == DOWNLOADS.c.file_id)
            .scalar_subquery(),
        ),
    }
    filled = 0
    while True:
        # Classified rows leave the partial index this reads, so each round starts at the
        # rows still to do.
        chunk = db.execute(
            sa.select(DOWNLOADS.c.id, DOWNLOADS.c.user_agent)
            .where(where, DOWNLOADS.c.installer.is_(None))
            .order_by(DOWNLOADS.c.created_date)
            .limit(CLASSIFY_CHUNK)
        ).all()
        if not chunk:
            return filled
        # A chunk holds a few distinct agents: one UPDATE per agent, not one per row.
        by_agent: dict[str | None, list[int]] = defaultdict(list)
        for row_id, agent in chunk:
            by_agent[agent].append(row_id)
        for agent, row_ids in by_agent.items():
            # categories() always names an installer: these rows leave the query for good.
            db.execute(
                sa.update(DOWNLOADS)
                .where(DOWNLOADS.c.id.in_(row_ids))
                .values({**from_links, **categories(agent)})
            )
        filled += len(chunk)


def unclassified_before(db: Session, before: dt.datetime) -> int:
    """Raw rows older than ``before`` that no rollup counts yet (see ``classify_raw_rows``)."""
    return (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(DOWNLOADS)
            .where(DOWNLOADS.c.created_date < before, DOWNLOADS.c.installer.is_(None))
        )
        or 0
    )
