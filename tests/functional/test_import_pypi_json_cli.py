"""``wheelyard import pypi-json DIR``: PyPI JSON API documents, one project per file."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from wheelyard.cli import main
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.data.package import Package
from wheelyard.services.ops.row_counts import row_counts as count_rows

# A row of the "rows per table" table: the table name, then its count.
_COUNT_ROW = re.compile(r"^\W*([a-z_]+)\W+([\d,]+)\W*$")


def run_import(database: str, var_dir: Path, directory: Path) -> str:
    env = {"WHEELYARD_DATABASE_URL": database, "WHEELYARD_VAR_DIR": str(var_dir)}
    result = CliRunner().invoke(main, ["import", "pypi-json", str(directory)], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def row_counts(database: str) -> dict[str, int]:
    engine = create_engine(database)
    try:
        with session_factory(engine)() as db:
            return count_rows(db)
    finally:
        engine.dispose()


def checksum(database: str) -> str:
    """A digest of every row of every table, each table's rows in sorted order."""
    digest = hashlib.sha256()
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            for table in SqlAlchemyBase.metadata.sorted_tables:
                rows = sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
                digest.update(f"{table.name}:{len(rows)}:{'|'.join(rows)}".encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def printed_counts(output: str) -> dict[str, int]:
    """The per-table counts the command ends with; fails unless they are its last lines."""
    lines = output.rstrip().splitlines()
    title = max(i for i, line in enumerate(lines) if "rows per table" in line)
    counts = {}
    for line in lines[title + 1 :]:
        match = _COUNT_ROW.match(line)
        if match and match.group(1) != "table":
            counts[match.group(1)] = int(match.group(2).replace(",", ""))
        else:
            # Only the table's header and borders may sit between or after the rows.
            assert not re.search(r"[a-z0-9]", line) or "table" in line, line
    return counts


def test_reports_bad_documents_and_imports_the_rest(empty_database: str, tmp_path: Path) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    (folder / "nameless.json").write_text(json.dumps({"info": {}, "releases": {}}))
    good = {
        "info": {"name": "Tiny", "version": "1.0", "author": "Ada", "author_email": "a@b.org"},
        "releases": {
            "1.0": [
                {
                    "filename": "tiny-1.0.tar.gz",
                    "packagetype": "sdist",
                    "size": 10,
                    "digests": {"sha256": "a" * 64},
                    "upload_time": "2020-01-01T00:00:00",
                    "url": "https://files.example.org/tiny-1.0.tar.gz",
                }
            ]
        },
    }
    (folder / "tiny.json").write_text(json.dumps(good))
    # Another project listing the same file: its release comes in, the file does not.
    copycat = {**good, "info": {"name": "Copycat", "version": "1.0"}}
    (folder / "z-copycat.json").write_text(json.dumps(copycat))

    output = run_import(empty_database, tmp_path / "var", folder)
    assert "failed broken.json: not valid JSON" in output
    assert "failed nameless.json: the document has no info.name" in output
    assert "skipped Copycat tiny-1.0.tar.gz: the filename is already on the index" in output
    assert "2 new projects, 2 new releases, 1 new files, 0 files already present, 1 skipped" in (
        output
    )
    assert "2 failed documents" in output
    counts = row_counts(empty_database)
    assert printed_counts(output) == counts
    assert (counts["packages"], counts["release_files"], counts["users"]) == (2, 1, 1)


def test_imports_the_top_100_and_changes_nothing_the_second_time(
    empty_database: str, tmp_path: Path, top100_dir: Path
) -> None:
    documents = sorted(top100_dir.glob("*.json"))
    flask_document = json.loads((top100_dir / "flask.json").read_text())
    output = run_import(empty_database, tmp_path / "var", top100_dir)
    assert "0 failed documents" in output
    counts = row_counts(empty_database)
    assert counts["packages"] == len(documents) == 96
    assert printed_counts(output) == counts

    engine = create_engine(empty_database)
    try:
        with session_factory(engine)() as db:
            flask = db.get(Package, "flask")
            assert flask is not None
            versions = [release.version for release in flask.releases]
            assert sorted(versions) == sorted(flask_document["releases"])
            assert versions[0] == "1.0.2"
            assert versions.index("0.10") < versions.index("0.9")
            assert flask.author_name == "Armin Ronacher"
            assert flask.description_html and "lightweight" in flask.description_html
            assert "<p>" in flask.description_html
            assert db.scalar(sa.select(sa.func.count()).select_from(Package)) == 96
    finally:
        engine.dispose()
    before = checksum(empty_database)

    again = run_import(empty_database, tmp_path / "var", top100_dir)
    assert "0 new projects, 0 new releases, 0 new files" in again
    assert row_counts(empty_database) == counts
    assert checksum(empty_database) == before
    assert printed_counts(again) == counts
