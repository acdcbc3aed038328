"""``wheelyard retention`` and ``wheelyard cleanup``: the dry run lists exactly what --apply
removes, and removing is an owner's deletion (blobs, journal, audit), which the simple pages
and pip follow."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.install_clients import CLIENT_ENV, new_venv
from tests.helpers.live_server import run_server, scratch_database, wheelyard_cli
from tests.helpers.passwords import cheap_passwords
from wheelyard.cli import main
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.journal import JournalEntry
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.ops import schema
from wheelyard.storage.local import LocalStorage

# Days before now each version was uploaded.
DEMO = {"1.0": 400, "2.0a1": 300, "2.0b1": 200, "2.0": 150, "2.1.dev1": 120, "2.1rc1": 100}
OTHER = {"0.1": 500, "0.2a1": 400, "0.2a2": 300, "0.2": 200}


def seed(engine: sa.Engine, files: Path, projects: dict[str, dict[str, int]]) -> None:
    """The projects, each release with a real wheel (and its METADATA) in ``files``."""
    storage = LocalStorage(files)
    now = clock.now()
    with transaction(session_factory(engine)) as db:
        make = Factory(db, cheap_passwords())
        for name, releases in projects.items():
            package = make.package(name, versions=())
            for version, age in releases.items():
                release = make.release(
                    package, version, created=now - dt.timedelta(days=age), with_file=False
                )
                make.stored_file(release, wheel(Project(name=name, version=version)), storage)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        schema.upgrade(engine)
        seed(engine, tmp_path / "files", {"demo": DEMO, "other": OTHER})
        try:
            yield engine
        finally:
            engine.dispose()


def run(engine: sa.Engine, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "WHEELYARD_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "WHEELYARD_VAR_DIR": str(tmp_path),
        "WHEELYARD_STORAGE_PATH": str(tmp_path / "files"),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def ok(engine: sa.Engine, tmp_path: Path, *args: str) -> list[str]:
    code, out = run(engine, tmp_path, *args)
    assert code == 0, out
    return out.splitlines()


def releases(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(Release.package_id, Release.version))
        return {(package_id, version) for package_id, version in rows}


def blobs(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return [str(path) for path in connection.scalars(sa.select(ReleaseFile.storage_path))]


def serial(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.max(JournalEntry.id))) or 0


def stored(files: Path) -> set[str]:
    return {str(path.relative_to(files)) for path in files.rglob("*") if path.is_file()}


def test_rules_are_set_shown_and_cleared(engine: sa.Engine, tmp_path: Path) -> None:
    assert ok(engine, tmp_path, "retention", "show") == [
        "no retention rules: cleanup removes nothing"
    ]
    assert ok(engine, tmp_path, "retention", "set", "--days", "90", "--keep", "1") == [
        "retention (site-wide rule): pre-releases older than 90 days beyond the newest 1"
    ]
    ok(engine, tmp_path, "retention", "set", "--project", "Demo", "--days", "30", "--keep", "0")
    ok(engine, tmp_path, "retention", "set", "--days", "60", "--keep", "2")
    assert ok(engine, tmp_path, "retention", "show") == [
        "site-wide: 60 days, keep 2",
        "project demo: 30 days, keep 0",
    ]
    assert ok(engine, tmp_path, "retention", "clear", "--project", "demo") == [
        "project demo retention rule cleared"
    ]
    code, out = run(engine, tmp_path, "retention", "clear", "--project", "demo")
    assert code == 1 and "there is no project demo retention rule" in out
    assert ok(engine, tmp_path, "retention", "clear") == ["site-wide retention rule cleared"]
    with engine.connect() as connection:
        actions = list(connection.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["retention rule set"] * 3 + ["retention rule cleared"] * 2


@pytest.mark.parametrize(
    "args",
    [
        ("--days", "-1", "--keep", "0"),
        ("--days", "1", "--keep", "-3"),
        ("--days", "99999", "--keep", "0"),
        ("--project", "nope", "--days", "1", "--keep", "0"),
        ("--days", "x", "--keep", "0"),
        ("--keep", "1"),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(
    engine: sa.Engine, tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, out = run(engine, tmp_path, "retention", "set", *args)
    assert code != 0
    assert "Error" in out
    assert ok(engine, tmp_path, "retention", "show") == [
        "no retention rules: cleanup removes nothing"
    ]


def test_no_rule_removes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    before = releases(engine)
    assert ok(engine, tmp_path, "cleanup", "--apply") == ["0 release(s) removed"]
    assert releases(engine) == before


def test_the_dry_run_lists_exactly_what_apply_removes(engine: sa.Engine, tmp_path: Path) -> None:
    files = tmp_path / "files"
    ok(engine, tmp_path, "retention", "set", "--days", "90", "--keep", "0")
    # The project's own rule overrides the site's: other's pre-releases all stay young enough.
    ok(engine, tmp_path, "retention", "set", "--project", "other", "--days", "1000", "--keep", "0")
    before, blobs_before, stored_before = releases(engine), blobs(engine), stored(files)
    serial_before = serial(engine)

    dry = ok(engine, tmp_path, "cleanup")
    # Nothing changed by the dry run: rows, blobs, journal.
    assert releases(engine) == before and stored(files) == stored_before
    assert serial(engine) == serial_before
    rule = "retention (site-wide rule): pre-releases older than 90 days beyond the newest 0"
    # 2.1rc1 is the newest release (by version and by upload): never removed.
    assert [line.split(" (uploaded")[0] for line in dry] == [
        "would remove demo 2.1.dev1",
        "would remove demo 2.0b1",
        "would remove demo 2.0a1",
        "3 release(s) to remove; --apply removes them",
    ]
    assert all(line.endswith(rule) for line in dry[:-1])

    applied = ok(engine, tmp_path, "cleanup", "--apply")
    assert [line.replace("removed ", "would remove ", 1) for line in applied[:-1]] == dry[:-1]
    assert applied[-1] == "3 release(s) removed"

    removed = {("demo", line.split()[3]) for line in dry[:-1]}
    assert before - releases(engine) == removed
    # Final releases, the newest pre-release and all of other's stay.
    assert ("demo", "1.0") in releases(engine) and ("demo", "2.1rc1") in releases(engine)
    # Each removed wheel's blob and METADATA are gone; nothing else is.
    gone = stored_before - stored(files)
    assert len(gone) == 2 * len(removed)
    assert set(blobs_before) - set(blobs(engine)) <= gone
    assert stored(files) == stored_before - gone

    with engine.connect() as connection:
        journal_ids = list(
            connection.scalars(sa.select(JournalEntry.id).where(JournalEntry.id > serial_before))
        )
        journal = connection.execute(
            sa.select(JournalEntry.package_id, JournalEntry.version, JournalEntry.action)
            .where(JournalEntry.id > serial_before)
            .order_by(JournalEntry.id)
        ).all()
        audits = connection.execute(
            sa.select(AuditEvent.action, AuditEvent.package_id, AuditEvent.detail)
            .where(AuditEvent.action == "remove release")
            .order_by(AuditEvent.id)
        ).all()
        last_serial = connection.scalar(sa.select(Package.last_serial).where(Package.id == "demo"))
    assert journal == [
        ("demo", "2.1.dev1", "remove release"),
        ("demo", "2.0b1", "remove release"),
        ("demo", "2.0a1", "remove release"),
    ]
    assert last_serial == max(serial for serial in journal_ids)
    assert audits == [
        ("remove release", "demo", f"{version}: {rule}")
        for version in ("2.1.dev1", "2.0b1", "2.0a1")
    ]
    # Applied once, the rule has nothing left to do.
    assert ok(engine, tmp_path, "cleanup") == ["0 release(s) to remove; --apply removes them"]


JSON = "application/vnd.pypi.simple.v1+json"


def _simple_page(url: str, accept: str = "text/html") -> str:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def test_a_served_index_and_pip_follow_a_cleanup(tmp_path: Path) -> None:
    with run_server(tmp_path / "server", postgres_url()) as server:
        engine = create_engine(server.database_url)
        try:
            seed(engine, tmp_path / "server" / "files", {"demo": DEMO})
        finally:
            engine.dispose()
        page = server.url + "/simple/demo/"
        # Both answers in the page cache of whichever workers served them, several times over.
        for _ in range(4):
            assert "demo-2.0b1-py3-none-any.whl" in _simple_page(page)
            assert "demo-2.0b1-py3-none-any.whl" in _simple_page(page, JSON)
        wheelyard_cli(
            server, "retention", "set", "--project", "demo", "--days", "90", "--keep", "0"
        )
        out = wheelyard_cli(server, "cleanup", "--apply")
        assert "removed demo 2.0b1" in out
        # The command tells the server's workers (its change signal), so no stale page.
        for _ in range(4):
            assert "demo-2.0b1-py3-none-any.whl" not in _simple_page(page)
            assert "demo-2.0b1-py3-none-any.whl" not in _simple_page(page, JSON)
        assert "demo-2.1rc1-py3-none-any.whl" in _simple_page(page, JSON)
        python = str(new_venv(tmp_path / "venv") / "bin" / "python")
        pip = [sys.executable, "-m", "pip", "--python", python, "install", "--no-cache-dir"]
        pip += ["--index-url", server.url + "/simple/"]
        refused = subprocess.run(
            [*pip, "demo==2.0b1"], env=CLIENT_ENV, capture_output=True, text=True, check=False
        )
        assert refused.returncode != 0
        assert "No matching distribution found for demo==2.0b1" in refused.stderr
        kept = subprocess.run(
            [*pip, "--pre", "demo"], env=CLIENT_ENV, capture_output=True, text=True, check=False
        )
        assert kept.returncode == 0, kept.stdout + kept.stderr
        assert "demo-2.1rc1" in kept.stdout
