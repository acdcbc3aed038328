"""``wheelyard import dists DIR``: a folder of wheels and sdists, as pypiserver serves one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.environment import SHARED_DATA
from wheelyard.cli import main
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.storage.local import LocalStorage

LIB = Project("tiny-lib", "1.0", summary="The library")
APP = Project("tiny-app", "0.1", requires_dist=["tiny-lib>=1.0"])
REAL_DISTS = SHARED_DATA / "dists"


def run_import(database: str, var_dir: Path, directory: Path) -> str:
    env = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(var_dir)}
    result = CliRunner().invoke(main, ["import", "dists", str(directory)], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def files_in(database: str) -> dict[str, tuple[str, str | None]]:
    """filename -> (sha256, storage path) of every registered file."""
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            found = db.execute(
                sa.select(ReleaseFile.filename, ReleaseFile.sha256_digest, ReleaseFile.storage_path)
            )
            return {name: (sha256, path) for name, sha256, path in found}
    finally:
        engine.dispose()


def test_imports_a_folder_and_skips_it_the_second_time(empty_database: str, tmp_path: Path) -> None:
    folder = tmp_path / "dists"
    dists = [wheel(LIB), sdist(LIB), sdist(APP)]
    for dist in dists:
        dist.write_to(folder if dist is not dists[2] else folder / "nested")
    (folder / "README.txt").write_text("not a distribution")
    var_dir = tmp_path / "var"

    output = run_import(empty_database, var_dir, folder)
    assert "3 stored, 0 already present, 0 refused" in output
    assert "rows per table" in output
    registered = files_in(empty_database)
    assert {name: sha for name, (sha, _path) in registered.items()} == {
        dist.filename: dist.sha256 for dist in dists
    }
    storage = LocalStorage(var_dir / "files")
    for _sha, path in registered.values():
        assert path is not None and storage.exists(path)

    again = run_import(empty_database, var_dir, folder)
    assert "0 stored, 3 already present, 0 refused" in again
    assert files_in(empty_database) == registered


def test_reads_the_metadata_from_the_files_and_sets_no_owner(
    empty_database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "dists"
    wheel(LIB).write_to(folder)
    run_import(empty_database, tmp_path / "var", folder)
    engine = create_engine(empty_database)
    try:
        with session_factory(engine)() as db:
            package = db.get(Package, "tiny-lib")
            assert package is not None
            assert (package.name, package.summary) == ("tiny-lib", "The library")
            assert db.scalars(sa.select(Maintainer)).all() == []
            assert db.scalars(sa.select(ReleaseFile.uploaded_by)).all() == [None]
    finally:
        engine.dispose()


def test_reports_and_skips_files_it_cannot_take(empty_database: str, tmp_path: Path) -> None:
    first, later = tmp_path / "first", tmp_path / "later"
    wheel(LIB).write_to(first)
    run_import(empty_database, tmp_path / "var", first)
    # The same filename with other bytes, and a damaged file.
    rebuilt = wheel(replace(LIB, summary="Rebuilt"))
    rebuilt.write_to(later)
    broken = sdist(APP)
    (later / broken.filename).write_bytes(broken.content[:50])

    output = run_import(empty_database, tmp_path / "var", later)
    assert "0 stored, 0 already present, 2 refused" in output
    assert f"skipped {rebuilt.filename}: File already exists" in output
    assert f"skipped {broken.filename}: Invalid distribution file." in output
    assert files_in(empty_database)[rebuilt.filename][0] == wheel(LIB).sha256


@pytest.mark.skipif(not REAL_DISTS.is_dir(), reason=f"no real-world dists at {REAL_DISTS}")
def test_imports_the_real_world_dists(empty_database: str, tmp_path: Path) -> None:
    real = sorted(path.name for path in REAL_DISTS.iterdir())
    output = run_import(empty_database, tmp_path / "var", REAL_DISTS)
    assert f"{len(real)} stored, 0 already present, 0 refused" in output
    assert sorted(files_in(empty_database)) == real
    engine = create_engine(empty_database)
    try:
        with session_factory(engine)() as db:
            flask = db.get(Package, "flask")
            assert flask is not None
            assert flask.summary and "web" in flask.summary.lower()
            assert flask.description_html
    finally:
        engine.dispose()
    assert "0 stored" in run_import(empty_database, tmp_path / "var", REAL_DISTS)
