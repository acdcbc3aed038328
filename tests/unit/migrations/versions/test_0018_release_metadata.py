"""Migration 0018: each project's latest release gets the metadata its package holds today."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard import versions
from wheelyard.services.ops import schema


def _package(connection: sa.Connection, name: str, **columns: Any) -> None:
    values = {"id": name, "name": name, "ultranormalized": name, **columns}
    names = ", ".join(values)
    marks = ", ".join(f":{key}" for key in values)
    connection.execute(sa.text(f"INSERT INTO packages ({names}) VALUES ({marks})"), values)  # noqa: S608


def _release(
    connection: sa.Connection, package: str, version: str, *, yanked: bool = False, **extra: Any
) -> int:
    parsed = versions.parse(version)
    values = {
        "package_id": package,
        "version": version,
        "sort_key": parsed.sort_key,
        "major_ver": parsed.major,
        "minor_ver": parsed.minor,
        "build_ver": parsed.build,
        "is_prerelease": parsed.is_prerelease,
        "size": 0,
        "yanked": yanked,
        **extra,
    }
    names = ", ".join(values)
    marks = ", ".join(f":{key}" for key in values)
    query = f"INSERT INTO releases ({names}) VALUES ({marks}) RETURNING id"  # noqa: S608
    return int(connection.execute(sa.text(query), values).scalar_one())


def _rows(connection: sa.Connection) -> dict[int, dict[str, Any]]:
    query = sa.text("SELECT * FROM release_metadata")
    return {row["release_id"]: dict(row) for row in connection.execute(query).mappings()}


def _json(value: Any) -> Any:
    # SQLite hands back JSON as text through a plain SELECT; PostgreSQL as Python values.
    return json.loads(value) if isinstance(value, str) else value


def test_the_latest_release_gets_the_packages_metadata_and_no_other_does(
    connection: sa.Connection,
) -> None:
    config = schema.alembic_config(connection)
    command.downgrade(config, "0018-1")
    assert "release_metadata" not in sa.inspect(connection).get_table_names()
    connection.execute(sa.text("INSERT INTO licenses (id) VALUES ('MIT')"))
    _package(
        connection,
        "flask",
        summary="A micro framework",
        description="Flask\n=====",
        description_content_type="text/x-rst",
        description_html="<h1>Flask</h1>",
        keywords="wsgi, web",
        home_page="https://flask.example/",
        docs_url="https://docs.flask.example/",
        author_name="Armin",
        author_email="armin@example.com",
        license_id="MIT",
    )
    for classifier in ("Framework :: Flask", "License :: OSI Approved :: MIT License"):
        connection.execute(
            sa.text(
                "INSERT INTO package_classifiers (package_id, classifier) VALUES ('flask', :c)"
            ),
            {"c": classifier},
        )
    old = _release(connection, "flask", "1.0.2")
    latest = _release(connection, "flask", "3.1.3", requires_python=">=3.9")
    yanked = _release(connection, "flask", "4.0", yanked=True)
    pre = _release(connection, "flask", "5.0b1")
    # A project whose releases are all yanked shows its highest release.
    _package(connection, "gone", summary="All yanked")
    _release(connection, "gone", "1.0", yanked=True)
    gone_latest = _release(connection, "gone", "2.0rc1", yanked=True)

    command.upgrade(config, "head")

    rows = _rows(connection)
    assert set(rows) == {latest, gone_latest}
    assert not {old, yanked, pre} & set(rows)
    row = rows[latest]
    assert row["summary"] == "A micro framework"
    assert row["description"] == "Flask\n====="
    assert row["description_content_type"] == "text/x-rst"
    assert row["description_html"] == "<h1>Flask</h1>"
    assert _json(row["keywords"]) == ["wsgi", "web"]
    assert row["home_page"] == "https://flask.example/"
    assert row["docs_url"] == "https://docs.flask.example/"
    assert (row["author"], row["author_email"]) == ("Armin", "armin@example.com")
    assert row["license_name"] == "MIT"
    assert row["license"] is None  # the License field itself was never stored
    assert row["requires_python"] == ">=3.9"
    assert _json(row["classifiers"]) == [
        "Framework :: Flask",
        "License :: OSI Approved :: MIT License",
    ]
    assert rows[gone_latest]["summary"] == "All yanked"

    # A release's row goes with it.
    connection.execute(sa.text("DELETE FROM releases WHERE id = :id"), {"id": latest})
    assert latest not in _rows(connection)


def test_down_and_up_again_keep_the_triggers(connection: sa.Connection) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0018-1")
    assert sqlite_triggers(connection) == before
    assert "release_metadata" not in sa.inspect(connection).get_table_names()
    command.upgrade(config, "head")
    assert sqlite_triggers(connection) == before
    assert "release_metadata" in sa.inspect(connection).get_table_names()
