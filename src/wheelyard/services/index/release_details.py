"""What a release's page and JSON document show of it: its own core metadata.

From, in this order: the release's row (written at upload or import, migration 0018 for the
latest release of projects that existed before); the METADATA stored beside one of its
wheels (releases uploaded before 0018); and for the project's latest release only, the
project's columns, which describe that release. An older release with none of these shows
nothing rather than another release's README, license or authors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.metadata import RawMetadata, parse_email
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_metadata import ReleaseMetadata
from wheelyard.services.index.project_page import core_metadata
from wheelyard.services.projects import packages, readme
from wheelyard.services.projects.release_metadata import from_raw
from wheelyard.storage.base import FileStorage


@dataclass(frozen=True)
class ReleaseDetails:
    """One release's metadata, ready to show; empty fields are None (lists: empty)."""

    summary: str | None = None
    description: str | None = None
    description_content_type: str | None = None
    readme_html: str = ""
    keywords: list[str] = field(default_factory=list)
    home_page: str | None = None
    download_url: str | None = None
    docs_url: str | None = None
    project_urls: dict[str, str] = field(default_factory=dict)
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    maintainer_email: str | None = None
    license: str | None = None
    license_expression: str | None = None
    license_files: list[str] | None = None
    license_name: str | None = None
    classifiers: list[str] = field(default_factory=list)
    requires_dist: list[str] | None = None
    provides_extra: list[str] | None = None
    requires_python: str | None = None
    platforms: list[str] | None = None
    dynamic: list[str] | None = None
    # False when nothing at all is known of this release's metadata.
    known: bool = True


def details_of(
    db: Session, storage: FileStorage, package: Package, release: Release | None
) -> ReleaseDetails:
    """``release``'s metadata; with no release (a project without any), the project's."""
    if release is None:
        return _from_package(package, None)
    row = release.core_metadata
    if row is not None:
        return _from_row(row, release)
    raw = _stored_metadata(storage, release)
    if raw is not None:
        return _from_row(from_raw(raw, description_html=None), release)
    if release is packages.default_release(package):
        return _from_package(package, release)
    return ReleaseDetails(requires_python=release.requires_python, known=False)


def _from_row(row: ReleaseMetadata, release: Release) -> ReleaseDetails:
    values: dict[str, Any] = row.fields()
    html = values.pop("description_html")
    values["readme_html"] = (
        html
        if html is not None
        else _render(values["description"], values["description_content_type"])
    )
    values["requires_python"] = release.requires_python or values["requires_python"]
    for name in ("keywords", "classifiers"):
        values[name] = values[name] or []
    values["project_urls"] = values["project_urls"] or {}
    return ReleaseDetails(**values)


def _from_package(package: Package, release: Release | None) -> ReleaseDetails:
    # Not the classifiers: the project's are kept for search filters, and a release that
    # reaches here (one made before 0018 with neither a row nor a wheel) never listed its own.
    keywords = (package.keywords or "").split(",")
    return ReleaseDetails(
        summary=package.summary,
        description=package.description,
        description_content_type=package.description_content_type,
        readme_html=packages.description_html(package),
        keywords=[word.strip() for word in keywords if word.strip()],
        home_page=package.home_page,
        docs_url=package.docs_url,
        author=package.author_name,
        author_email=package.author_email,
        license_name=package.license_id,
        requires_python=release.requires_python if release is not None else None,
    )


def _stored_metadata(storage: FileStorage, release: Release) -> RawMetadata | None:
    for release_file in release.files:
        data = core_metadata(storage, release_file)
        if data is not None:
            raw, _unparsed = parse_email(data)
            return raw
    return None


def _render(description: str | None, content_type: str | None) -> str:
    # A page view never writes: rendered for this answer only, within the page's time.
    if not description:
        return ""
    try:
        return readme.render_bounded(
            description, content_type, seconds=packages.PAGE_RENDER_SECONDS
        )
    except readme.ReadmeTooSlow:
        return readme.plain(description)
