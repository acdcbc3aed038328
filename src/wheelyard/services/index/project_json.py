"""PyPI's JSON API documents: ``/pypi/<name>/json`` and ``/pypi/<name>/<version>/json``.

The shape is PyPI's, so tools written for it (mirrors, auditors, update checkers) work
unchanged. ``info`` describes one release: for the project document, the latest (highest
non-yanked final release); it is that release's own core metadata
(services/index/release_details.py). ``ownership`` lists who may upload (role changes are
journalled, so cached documents follow them). Download counts are ``-1``, as on PyPI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import urls
from wheelyard.services.index.project_page import relative_url
from wheelyard.services.index.release_details import ReleaseDetails, details_of
from wheelyard.services.projects import maintainers
from wheelyard.services.projects.packages import (
    default_release,
    external_link,
    resolve_release,
)
from wheelyard.services.projects.release_files import file_url
from wheelyard.storage.base import FileStorage

NO_DOWNLOAD_COUNTS = {"last_day": -1, "last_month": -1, "last_week": -1}


@dataclass(frozen=True, slots=True)
class JsonDocument:
    body: bytes
    serial: int  # the project's last_serial, for X-PyPI-Last-Serial and caching


@dataclass(frozen=True, slots=True)
class VersionMoved:
    """The version was asked for in another spelling (2.0 for 2.0.0): redirect to this one."""

    version: str


def _load(db: Session, project_id: str, *, with_all_files: bool) -> Package | None:
    releases = selectinload(Package.releases)
    query = sa.select(Package).where(Package.id == project_id)
    query = query.options(releases.selectinload(Release.files) if with_all_files else releases)
    return db.scalars(query).one_or_none()


def project_document(
    db: Session, storage: FileStorage, project_id: str, base_url: str
) -> JsonDocument | None:
    """``/pypi/<project>/json``; None for an unknown project or one without releases."""
    package = _load(db, project_id, with_all_files=True)
    release = default_release(package) if package is not None else None
    if package is None or release is None:
        return None
    document = _release_document(db, storage, package, release, base_url)
    document["releases"] = {
        other.version: [_file(other, release_file, base_url) for release_file in other.files]
        for other in reversed(package.releases)  # oldest first, as PyPI lists them
    }
    return JsonDocument(_encode(document), package.last_serial)


def release_document(
    db: Session, storage: FileStorage, project_id: str, version: str, base_url: str
) -> JsonDocument | VersionMoved | None:
    """``/pypi/<project>/<version>/json`` (without ``releases``, as PyPI dropped it there)."""
    package = _load(db, project_id, with_all_files=False)
    release = resolve_release(package, version) if package is not None else None
    if package is None or release is None:
        return None
    if release.version != version:
        return VersionMoved(release.version)
    document = _release_document(db, storage, package, release, base_url)
    return JsonDocument(_encode(document), package.last_serial)


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _release_document(
    db: Session, storage: FileStorage, package: Package, release: Release, base_url: str
) -> dict[str, Any]:
    details = details_of(db, storage, package, release)
    return {
        "info": _info(package, release, details, base_url),
        "last_serial": package.last_serial,
        "ownership": _ownership(db, package),
        "urls": [_file(release, release_file, base_url) for release_file in release.files],
        "vulnerabilities": [],
    }


def _ownership(db: Session, package: Package) -> dict[str, Any]:
    """PyPI's ``ownership``: who may upload, by role (readers, who only install, are not)."""
    links = [link for link in maintainers.links_of(db, package) if link.role.may_upload]
    return {
        "organization": None,
        "roles": [{"role": link.role.value, "user": link.user.name} for link in links],
    }


def _project_urls(details: ReleaseDetails) -> dict[str, str] | None:
    """Every Project-URL, with Home-page and Download-URL under their labels, as PyPI lists
    them; only links safe to follow (http and https), as the project's page shows them."""
    urls: dict[str, str] = {}
    if home_page := external_link(details.home_page):
        urls["Homepage"] = home_page
    if download := external_link(details.download_url):
        urls["Download"] = download
    for label, url in details.project_urls.items():
        if link := external_link(url):
            urls[label] = link
    return urls or None


def _info(
    package: Package, release: Release, details: ReleaseDetails, base_url: str
) -> dict[str, Any]:
    project_page = relative_url(urls.project_url(package.id), base_url)
    return {
        "author": details.author,
        "author_email": details.author_email,
        "bugtrack_url": None,
        "classifiers": details.classifiers,
        "description": details.description or "",
        "description_content_type": details.description_content_type,
        # Each only from its own field; links go out only as http(s): a javascript: URL in
        # metadata is nobody's link.
        "docs_url": external_link(details.docs_url),
        "download_url": external_link(details.download_url),
        "downloads": NO_DOWNLOAD_COUNTS,
        "dynamic": details.dynamic,
        "home_page": external_link(details.home_page),
        "keywords": ",".join(details.keywords) if details.keywords else None,
        # The License field only; PEP 639's expression and files beside it.
        "license": details.license,
        "license_expression": details.license_expression,
        "license_files": details.license_files,
        "maintainer": details.maintainer,
        "maintainer_email": details.maintainer_email,
        "name": package.name,
        "package_url": project_page,
        "platform": ",".join(details.platforms) if details.platforms else None,
        "project_url": project_page,
        "project_urls": _project_urls(details),
        "provides_extra": details.provides_extra,
        "release_url": relative_url(urls.project_url(package.id, release.version), base_url),
        "requires_dist": details.requires_dist,
        "requires_python": details.requires_python,
        "summary": details.summary,
        "version": release.version,
        "yanked": release.yanked,
        "yanked_reason": release.yanked_reason if release.yanked else None,
    }


def _file(release: Release, release_file: ReleaseFile, base_url: str) -> dict[str, Any]:
    uploaded = release_file.created_date
    return {
        "comment_text": "",
        # PEP 658's metadata file beside a wheel, as on the Simple API.
        "core-metadata": (
            {"sha256": release_file.metadata_sha256} if release_file.metadata_sha256 else False
        ),
        "digests": {
            "blake2b_256": release_file.blake2_256_digest,
            "md5": release_file.md5_digest,
            "sha256": release_file.sha256_digest,
        },
        "downloads": -1,
        "filename": release_file.filename,
        "has_sig": False,
        "md5_digest": release_file.md5_digest,
        "packagetype": release_file.packagetype,
        "python_version": release_file.python_version,
        "requires_python": release_file.requires_python or release.requires_python,
        "size": release_file.size,
        "upload_time": uploaded.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "url": relative_url(file_url(release_file), base_url) or None,
        "yanked": release.yanked,
        "yanked_reason": release.yanked_reason if release.yanked else None,
    }
