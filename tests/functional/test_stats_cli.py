"""``wheelyard stats rebuild`` and ``wheelyard stats prune`` as an operator runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.environment import postgres_url
from tests.helpers.live_server import scratch_database
from wheelyard.cli import main
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.download import Download
from wheelyard.data.download_breakdown import Dimension
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics import stats
from wheelyard.services.ops import schema

TODAY = clock.today()
PIP = 'pip/24.0 {"python":"3.12.1","system":{"name":"Linux","release":"6.1"}}'
UV = 'uv/0.4.18 {"python":"3.13.0","system":{"name":"Darwin","release":"24.1.0"}}'


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A migrated database holding raw downloads as an older wheelyard stored them:
    what was served to whom, no categories, no rollups. 5 today, 3 of them by uv;
    2 twenty days ago; 4 two hundred days ago."""
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine)
            with transaction(session_factory(engine)) as db:
                package = Package(id="counted", name="Counted")
                release = Release(package=package, version="1.0")
                release_file = ReleaseFile(
                    release=release,
                    filename="counted-1.0.tar.gz",
                    packagetype="sdist",
                    size=1,
                    sha256_digest="0" * 64,
                )
                db.add(release_file)
                db.flush()
                for days_ago, agents in (
                    (0, [PIP, PIP, UV, UV, UV]),
                    (20, [PIP, None]),
                    (200, [PIP] * 4),
                ):
                    when = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(6))
                    db.add_all(
                        Download(
                            package_id="counted",
                            release_id=release.id,
                            file_id=release_file.id,
                            user_agent=agent,
                            created_date=when,
                        )
                        for agent in agents
                    )
        finally:
            engine.dispose()
        yield url


def run(database: str, tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    environment = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(tmp_path), **env}
    result = CliRunner().invoke(main, ["stats", *args], env=environment)
    return result.exit_code, result.output


def figures(database: str) -> tuple[int, stats.RecentDownloads, list[stats.CategoryCount], int]:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            return (
                stats.total(db, "counted"),
                stats.recent(db, "counted"),
                stats.breakdown(db, "counted", Dimension.INSTALLER, days=365),
                db.scalar(sa.select(sa.func.count()).select_from(Download)) or 0,
            )
    finally:
        engine.dispose()


def test_rebuild_counts_old_rows_and_prune_then_drops_them(database: str, tmp_path: Path) -> None:
    assert figures(database) == (0, (0, 0, 0), [], 11)
    # Pruning rows no rollup counts would lose them: refused.
    code, output = run(database, tmp_path, "prune")
    assert code == 1
    assert "4 downloads before" in output
    assert "run `wheelyard stats rebuild` first" in output

    code, output = run(database, tmp_path, "rebuild")
    assert code == 0, output
    assert "11 downloads counted" in output
    total, recent, installers, raw = figures(database)
    assert (total, recent, raw) == (11, (5, 5, 7), 11)
    assert installers == [("pip", 7), ("uv", 3), ("other", 1)]

    code, output = run(database, tmp_path, "prune")
    assert code == 0, output
    assert f"deleted 4 raw downloads from before {TODAY - dt.timedelta(days=180)}" in output
    assert figures(database) == (11, (5, 5, 7), installers, 7)

    # A shorter retention, from the environment; the rollups still keep every count.
    code, output = run(database, tmp_path, "prune", WHEELYARD_DOWNLOAD_RETENTION_DAYS="10")
    assert code == 0, output
    assert "deleted 2 raw downloads" in output
    assert figures(database)[0] == 11
    assert figures(database)[3] == 5


def test_rebuild_since_a_day_before_the_raw_rows_keeps_older_counts(
    database: str, tmp_path: Path
) -> None:
    assert run(database, tmp_path, "rebuild")[0] == 0
    assert run(database, tmp_path, "prune", "--days", "30")[0] == 0
    since = (TODAY - dt.timedelta(days=365)).isoformat()

    code, output = run(database, tmp_path, "rebuild", "--since", since)

    assert code == 0, output
    assert f"raw downloads start on {TODAY - dt.timedelta(days=20)}" in output
    assert "7 downloads counted" in output
    assert figures(database)[0] == 11  # the 4 pruned downloads are still counted


def test_retention_zero_keeps_everything(database: str, tmp_path: Path) -> None:
    code, output = run(database, tmp_path, "prune", "--days", "0")
    assert code == 0, output
    assert "kept forever" in output
    assert figures(database)[3] == 11


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("rebuild", "--since", "last tuesday"), "Invalid value for '--since'"),
        (("prune", "--days", "-1"), "Invalid value for '--days'"),
    ],
)
def test_bad_options(database: str, tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    code, output = run(database, tmp_path, *args)
    assert code == 2
    assert reason in output


def test_rebuild_of_an_empty_index(tmp_path: Path) -> None:
    with scratch_database(postgres_url(), tmp_path) as url:
        code, output = run(url, tmp_path, "rebuild")
    assert code == 0, output
    assert "nothing to rebuild" in output
