"""Reading packages and releases for pages: lookups, home page figures, newest releases,
what a project page shows, and one-line summaries for lists of packages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from packaging.version import Version
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.index_count import IndexCount
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.naming import normalize_name
from wheelyard.services.projects import readme

# The releases.version column's width: nothing longer is a stored version.
MAX_VERSION_LENGTH = 100


@dataclass(frozen=True)
class IndexCounts:
    projects: int
    releases: int
    files: int
    users: int


def index_counts(db: Session) -> IndexCounts:
    """The home page's figures, from the running totals the database keeps (migration 0005)."""
    totals = db.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(IndexCount.projects), 0),
            sa.func.coalesce(sa.func.sum(IndexCount.releases), 0),
            sa.func.coalesce(sa.func.sum(IndexCount.files), 0),
            sa.func.coalesce(sa.func.sum(IndexCount.users), 0),
        )
    ).one()
    projects, releases, files, users = (int(value) for value in totals)
    hidden = _private_counts(db)
    return IndexCounts(
        projects=projects - hidden[0],
        releases=releases - hidden[1],
        files=files - hidden[2],
        users=users,
    )


def _private_counts(db: Session) -> tuple[int, int, int]:
    """Projects, releases and files of private projects, which the figures do not show:
    counted at read time (private projects are few, and their column is indexed) rather
    than kept in the running totals."""
    private = sa.select(Package.id).where(Package.visibility == Visibility.PRIVATE).subquery()
    projects = db.scalar(sa.select(sa.func.count()).select_from(private)) or 0
    if not projects:
        return 0, 0, 0
    releases = db.scalar(
        sa.select(sa.func.count()).where(Release.package_id.in_(sa.select(private.c.id)))
    )
    files = db.scalar(
        sa.select(sa.func.count())
        .select_from(ReleaseFile)
        .join(Release, Release.id == ReleaseFile.release_id)
        .where(Release.package_id.in_(sa.select(private.c.id)))
    )
    return projects, releases or 0, files or 0


def newest_releases(db: Session, limit: int = 10) -> list[Release]:
    """The most recently created releases, each with its package loaded for the summary.

    Only releases with files count: one without any cannot be installed, and imported ones
    carry no date of their own, so they would crowd the list with the import's time.
    """
    query = (
        sa.select(Release)
        .options(selectinload(Release.package))
        .join(Package, Package.id == Release.package_id)
        .where(
            sa.exists().where(ReleaseFile.release_id == Release.id),
            Package.visibility == Visibility.PUBLIC,
        )
        .order_by(Release.created_date.desc(), Release.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def find_package(db: Session, name: str) -> Package | None:
    """The package a name means, by its normalized form."""
    return db.get(Package, normalize_name(name))


def latest_release(package: Package) -> Release | None:
    """The highest non-yanked final release; failing that, the highest non-yanked one.

    ``package.releases`` is newest first in PEP 440 order, so the first match wins.
    """
    candidates = [release for release in package.releases if not release.yanked]
    finals = [release for release in candidates if not release.is_prerelease]
    if finals:
        return finals[0]
    return candidates[0] if candidates else None


def find_release(package: Package, version: str) -> Release | None:
    for release in package.releases:
        if release.version == version:
            return release
    return None


def resolve_release(package: Package, version: str) -> Release | None:
    """The release a version in a URL means: the exact string, else a PEP 440 equal one.

    ``2.0`` finds a release stored as ``2.0.0`` (the caller redirects to the stored text),
    so hand-typed URLs work without making two URLs show the same page.
    """
    exact = find_release(package, version)
    if exact is not None:
        return exact
    wanted = _pep440(version)
    if wanted is None:
        return None
    for release in package.releases:
        if _pep440(release.version) == wanted:
            return release
    return None


def _pep440(text: str) -> Version | None:
    # ValueError, not only InvalidVersion: int() refuses numbers of thousands of digits.
    if len(text) > MAX_VERSION_LENGTH:
        return None
    try:
        return Version(text)
    except ValueError:
        return None


def load_project(db: Session, name: str) -> Package | None:
    """A package with everything its page shows, in a fixed number of queries.

    Releases come without their files: a project may have hundreds of releases, and its
    page lists the files of one (``Release.files`` loads them with one more query).
    """
    query = (
        sa.select(Package)
        .where(Package.id == normalize_name(name))
        .options(
            selectinload(Package.releases),
            selectinload(Package.maintainer_links).selectinload(Maintainer.user),
            selectinload(Package.languages),
        )
    )
    return db.scalars(query).one_or_none()


def default_release(package: Package) -> Release | None:
    """What the project page shows: the latest release, or the newest when all are yanked."""
    latest = latest_release(package)
    if latest is not None:
        return latest
    return package.releases[0] if package.releases else None


def install_command(package: Package, release: Release) -> str:
    """The ``pip install`` line for a release: bare for the latest, pinned otherwise.

    A pin is what installs a yanked or pre-release version (PEP 592), so every release
    that plain ``pip install NAME`` would not pick gets one.
    """
    latest = latest_release(package)
    if latest is release:
        return f"pip install {package.name}"
    return f"pip install {package.name}=={release.version}"


# A page view that has to render a README (one stored before rendering happened at upload)
# waits this long for it, then shows the text plain.
PAGE_RENDER_SECONDS = 2.0


def description_html(package: Package) -> str:
    """The README as safe HTML: rendered at upload or import, or now if that never ran.

    Rendering here does not store the result: a page view is a read and never writes.
    """
    if package.description_html is not None:
        return package.description_html
    try:
        return readme.render_bounded(
            package.description, package.description_content_type, seconds=PAGE_RENDER_SECONDS
        )
    except readme.ReadmeTooSlow:
        # A page must answer: the README as it was written, escaped.
        return readme.plain(package.description)


def maintainers_of(package: Package) -> list[Maintainer]:
    """The package's maintainers, owners first, then by name; readers, who only install it,
    are not among them."""
    return sorted(
        (link for link in package.maintainer_links if link.role.may_upload),
        key=lambda link: (link.role != Role.OWNER, link.user.name.lower(), link.user_id),
    )


def external_link(url: str | None) -> str | None:
    """A link from metadata, when it is safe to put in an href (http or https only)."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme
    except ValueError:  # e.g. "http://[oops": an unbalanced IPv6 bracket
        return None
    return url if scheme.lower() in {"http", "https"} else None


@dataclass(frozen=True)
class PackageSummary:
    """One line of a list of packages (search results, browse pages)."""

    id: str
    name: str
    summary: str | None
    latest_version: str | None
    updated: dt.datetime


def latest_versions(db: Session, package_ids: Sequence[str]) -> dict[str, str]:
    """The latest release's version of each package, chosen as ``latest_release`` does."""
    if not package_ids:
        return {}
    query = (
        sa.select(Release.package_id, Release.version, Release.is_prerelease)
        .where(Release.package_id.in_(package_ids), Release.yanked.is_(False))
        .order_by(Release.package_id, Release.sort_key.desc())
    )
    finals: dict[str, str] = {}
    any_release: dict[str, str] = {}
    for package_id, version, is_prerelease in db.execute(query):
        any_release.setdefault(package_id, version)
        if not is_prerelease:
            finals.setdefault(package_id, version)
    return {**any_release, **finals}


def summarize(db: Session, packages: Sequence[Package]) -> list[PackageSummary]:
    """List lines for packages, with their latest versions fetched in one query."""
    versions = latest_versions(db, [package.id for package in packages])
    return [
        PackageSummary(
            id=package.id,
            name=package.name,
            summary=package.summary,
            latest_version=versions.get(package.id),
            updated=package.last_updated or package.created_date,
        )
        for package in packages
    ]
