"""Every row of a wheelyard database and every blob of a local storage, for comparing copies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from wheelyard.data import __all_models  # noqa: F401 - registers every table
from wheelyard.data.db_session import create_engine
from wheelyard.data.modelbase import SqlAlchemyBase


def every_row(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows in key order, every column."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in SqlAlchemyBase.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def index_totals(url: str) -> tuple[int, ...]:
    """The running totals summed over their slots, and the same figures counted afresh."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            kept = connection.execute(
                sa.text(
                    "SELECT sum(projects), sum(releases), sum(files), sum(users), sum(total_size)"
                    " FROM index_counts"
                )
            ).one()
            counted = connection.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM releases),"
                    " (SELECT count(*) FROM release_files), (SELECT count(*) FROM users),"
                    " (SELECT coalesce(sum(size), 0) FROM release_files)"
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(kept) == tuple(counted), (kept, counted)
    return tuple(int(value) for value in kept)


def blob_digests(root: Path) -> dict[str, str]:
    """Path under ``root`` -> sha256 of every file there."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
