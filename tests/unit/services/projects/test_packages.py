"""services.projects.packages: what project pages and package lists read."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.services.projects import packages


def reloaded(db: Session, package_id: str) -> Package:
    db.expunge_all()
    package = packages.load_project(db, package_id)
    assert package is not None
    return package


# --- load_project ------------------------------------------------------------------------


def test_load_project_by_any_spelling_of_the_name(db: Session, make: Factory) -> None:
    make.package("Some_Thing", versions=("1.0", "1.10", "1.9"))

    package = reloaded(db, "some.thing")

    assert package.name == "Some_Thing"
    assert [release.version for release in package.releases] == ["1.10", "1.9", "1.0"]


def test_load_project_of_an_unknown_name(db: Session) -> None:
    assert packages.load_project(db, "nothing-here") is None


# --- which release a page shows ------------------------------------------------------------


def test_default_release_is_the_latest_final(db: Session, make: Factory) -> None:
    make.package("p", versions=("1.0", "2.0", "3.0b1"))

    release = packages.default_release(reloaded(db, "p"))

    assert release is not None
    assert release.version == "2.0"


def test_default_release_falls_back_to_the_newest_when_all_are_yanked(
    db: Session, make: Factory
) -> None:
    package = make.package("p", versions=())
    make.release(package, "1.0", yanked=True)
    make.release(package, "2.0", yanked=True)

    package = reloaded(db, "p")

    assert packages.latest_release(package) is None
    release = packages.default_release(package)
    assert release is not None
    assert release.version == "2.0"


def test_default_release_of_a_project_without_releases(db: Session, make: Factory) -> None:
    make.package("p", versions=())
    assert packages.default_release(reloaded(db, "p")) is None


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("1.0", "1.0"),
        ("1.0.0", "1.0"),
        ("1.0.0.0", "1.0"),
        ("2.0rc1", "2.0-rc.1"),
        ("2.0.0rc1", "2.0-rc.1"),
        ("0.9-doduo", "0.9-doduo"),
        ("1.1", None),
        ("not a version", None),
        ("9" * 5000, None),
        ("", None),
    ],
)
def test_resolve_release_exact_then_pep440_equal(
    db: Session, make: Factory, asked: str, found: str | None
) -> None:
    make.package("p", versions=("1.0", "2.0-rc.1", "0.9-doduo"))

    release = packages.resolve_release(reloaded(db, "p"), asked)

    assert (release.version if release else None) == found


# --- pip install line ----------------------------------------------------------------------


def test_install_command_is_bare_for_the_latest_and_pinned_otherwise(
    db: Session, make: Factory
) -> None:
    package = make.package("Pkg_Name", versions=("1.0", "2.0", "3.0a1"))
    make.release(package, "2.1", yanked=True)
    package = reloaded(db, "pkg-name")
    by_version = {release.version: release for release in package.releases}

    assert packages.install_command(package, by_version["2.0"]) == "pip install Pkg_Name"
    assert packages.install_command(package, by_version["1.0"]) == "pip install Pkg_Name==1.0"
    assert packages.install_command(package, by_version["3.0a1"]) == "pip install Pkg_Name==3.0a1"
    assert packages.install_command(package, by_version["2.1"]) == "pip install Pkg_Name==2.1"


# --- README ----------------------------------------------------------------------------


def test_description_html_prefers_the_stored_rendering(make: Factory) -> None:
    package = make.package("p", description="*source*", description_content_type="text/markdown")
    assert "<em>source</em>" in packages.description_html(package)

    package.description_html = "<p>stored</p>"
    assert packages.description_html(package) == "<p>stored</p>"


def test_description_html_of_nothing_is_empty(make: Factory) -> None:
    assert packages.description_html(make.package("p", description=None)) == ""


# --- maintainers -----------------------------------------------------------------------


def test_maintainers_owners_first_then_by_name(db: Session, make: Factory) -> None:
    package = make.package("p", owner=make.user(name="zoe"))
    for name in ("Bob", "alice"):
        db.add(Maintainer(user=make.user(name=name), package=package, role=Role.MAINTAINER))
    db.add(Maintainer(user=make.user(name="Yann"), package=package, role=Role.OWNER))
    db.flush()

    ordered = packages.maintainers_of(reloaded(db, "p"))

    assert [(link.user.name, link.role) for link in ordered] == [
        ("Yann", Role.OWNER),
        ("zoe", Role.OWNER),
        ("alice", Role.MAINTAINER),
        ("Bob", Role.MAINTAINER),
    ]


def test_readers_are_not_listed_as_maintainers(db: Session, make: Factory) -> None:
    # A Reader may install a private project; the project page's maintainers are the people
    # who publish it, as on PyPI.
    package = make.package("p", owner=make.user(name="zoe"))
    db.add(Maintainer(user=make.user(name="Rita"), package=package, role=Role.READER))
    db.flush()

    listed = packages.maintainers_of(reloaded(db, "p"))

    assert [link.user.name for link in listed] == ["zoe"]


# --- links -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/docs", "https://example.org/docs"),
        ("  http://example.org/  ", "http://example.org/"),
        ("HTTPS://EXAMPLE.ORG", "HTTPS://EXAMPLE.ORG"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("//example.org/x", None),
        ("UNKNOWN", None),
        ("http://[oops", None),
        ("", None),
        (None, None),
    ],
)
def test_external_link_only_for_http_and_https(url: str | None, expected: str | None) -> None:
    assert packages.external_link(url) == expected


# --- lists of packages -------------------------------------------------------------------


def test_latest_versions_choose_like_latest_release(db: Session, make: Factory) -> None:
    make.package("finals", versions=("1.0", "1.10", "2.0b1"))
    make.package("pre-only", versions=("0.1a1", "0.1a2"))
    yanked = make.package("yanked-top", versions=("1.0",))
    make.release(yanked, "2.0", yanked=True)
    all_yanked = make.package("all-yanked", versions=())
    make.release(all_yanked, "1.0", yanked=True)
    make.package("none", versions=())

    versions = packages.latest_versions(
        db, ["finals", "pre-only", "yanked-top", "all-yanked", "none", "unknown"]
    )

    assert versions == {"finals": "1.10", "pre-only": "0.1a2", "yanked-top": "1.0"}
    for package_id, version in versions.items():
        latest = packages.latest_release(reloaded(db, package_id))
        assert latest is not None
        assert latest.version == version


def test_latest_versions_of_nothing(db: Session) -> None:
    assert packages.latest_versions(db, []) == {}


def test_summarize_keeps_order_and_uses_last_updated(db: Session, make: Factory) -> None:
    older = make.package("b-older", versions=("1.0",), summary="B")
    newer = make.package("a-newer", versions=(), summary=None)
    older.last_updated = dt.datetime(2024, 5, 1)
    db.flush()

    rows = packages.summarize(db, [older, newer])

    assert [(row.id, row.name, row.summary, row.latest_version) for row in rows] == [
        ("b-older", "b-older", "B", "1.0"),
        ("a-newer", "a-newer", None, None),
    ]
    assert rows[0].updated == dt.datetime(2024, 5, 1)
    created = db.scalar(sa.select(Package.created_date).where(Package.id == "a-newer"))
    assert rows[1].updated == created


def test_newest_releases_are_those_with_files_newest_first(db: Session, make: Factory) -> None:
    package = make.package("newest", versions=())
    older = make.release(package, "1.0", created=dt.datetime(2026, 1, 1))
    newer = make.release(package, "1.1", created=dt.datetime(2026, 2, 1))
    make.release(package, "2.0", created=dt.datetime(2026, 3, 1), with_file=False)

    assert packages.newest_releases(db, limit=5) == [newer, older]
