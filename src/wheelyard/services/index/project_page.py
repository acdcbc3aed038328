"""The Simple Repository API's content: one context per project, rendered as HTML or JSON.

PEP 503 (HTML) and PEP 691 (JSON) describe the same page, so both are rendered from one
``ProjectDetail``; API version 1.1 adds PEP 700's ``versions``, ``size`` and ``upload-time``,
1.4 PEP 792's ``project-status`` (a quarantined project lists no files).
Files carry their sha256 (as a URL fragment in HTML), ``requires-python``, PEP 592 yanking
and PEP 658/714 core metadata, served at the file's URL plus ``.metadata``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.package import Package, ProjectStatus
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.projects.release_files import file_url, metadata_path
from wheelyard.storage.base import FileStorage, StorageError

# 1.4: PEP 792's project status markers (1.2 and 1.3 added only optional keys).
API_VERSION = "1.4"
# Project pages live at /simple/<name>/, so this reaches the site root from them. Relative
# links keep rendered pages independent of the host name they were requested under.
PROJECT_PAGE_ROOT = "../../"
# A wheel's core metadata is its one top-level ``<name>-<version>.dist-info/METADATA``.
_WHEEL_METADATA = re.compile(r"^[^/]+\.dist-info/METADATA$")
# A METADATA member larger than this is not metadata; refuse to inflate it.
MAX_METADATA_SIZE = 8 * 1024 * 1024


def read_wheel_metadata(wheel: BinaryIO) -> bytes | None:
    """The ``METADATA`` bytes of a wheel, or None when the archive has no single one."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [info for info in archive.infolist() if _WHEEL_METADATA.match(info.filename)]
            if len(members) != 1 or members[0].file_size > MAX_METADATA_SIZE:
                return None
            return archive.read(members[0])
    # A damaged or exotic archive (bad CRC, encryption, unknown compression) has no
    # metadata we can vouch for.
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        return None


def metadata_blob(release_file: ReleaseFile, wheel: BinaryIO) -> bytes | None:
    """The wheel's METADATA, if it is what ``metadata_sha256`` promises (else None)."""
    data = read_wheel_metadata(wheel)
    if data is None or hashlib.sha256(data).hexdigest() != release_file.metadata_sha256:
        return None
    return data


def core_metadata(storage: FileStorage, release_file: ReleaseFile) -> bytes | None:
    """The file's PEP 658 metadata bytes, or None when it has none we can vouch for.

    Uploads store the metadata beside the wheel (``metadata_path``); when that blob is
    missing (an older upload, a partial copy of the storage), it is read out of the wheel,
    checked against ``metadata_sha256`` and stored, so the next request finds it.
    """
    if release_file.metadata_sha256 is None:
        return None
    path = metadata_path(release_file)
    if path is None:
        return None
    try:
        with storage.open(path) as blob:
            return blob.read()
    except StorageError:
        pass
    if release_file.storage_path is None:
        return None
    try:
        with storage.open(release_file.storage_path) as wheel:
            data = metadata_blob(release_file, wheel)
    except StorageError:
        return None
    if data is not None:
        # Keeping it is only a saving: a storage that refuses the write still gets served.
        with contextlib.suppress(StorageError, OSError):
            storage.put(path, io.BytesIO(data))
    return data


def upload_time(created: dt.datetime) -> str:
    """PEP 700's format: ISO 8601 in UTC with a ``Z`` (timestamps are stored naive UTC)."""
    return created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def relative_url(url: str, root: str) -> str:
    """``url`` as seen from a page whose site root is ``root``; absolute URLs pass through."""
    return root + url[1:] if url.startswith("/") else url


@dataclass(frozen=True, slots=True)
class IndexedFile:
    filename: str
    url: str
    sha256: str
    requires_python: str | None
    yanked: bool
    yanked_reason: str | None
    # Unknown only for files of an upstream's HTML page (services/upstream), which has neither.
    size: int | None
    upload_time: dt.datetime | None
    metadata_sha256: str | None


@dataclass(frozen=True, slots=True)
class ProjectDetail:
    """Everything a project's simple page says."""

    name: str  # normalized, as PEP 691 asks
    versions: tuple[str, ...]  # every release, in PEP 440 order, files or not
    files: tuple[IndexedFile, ...]
    last_serial: int
    # PEP 792; None where it is not known (an upstream's page): no marker, which reads active.
    status: ProjectStatus | None = None
    status_reason: str | None = None


def _indexed(release: Release, release_file: ReleaseFile, root: str) -> IndexedFile | None:
    url = file_url(release_file)
    if not url:
        return None  # neither stored here nor known upstream: nothing to link to
    return IndexedFile(
        filename=release_file.filename,
        url=relative_url(url, root),
        sha256=release_file.sha256_digest,
        requires_python=release_file.requires_python or release.requires_python,
        yanked=release.yanked,
        yanked_reason=release.yanked_reason or None,
        size=release_file.size,
        upload_time=release_file.created_date,
        metadata_sha256=release_file.metadata_sha256,
    )


def project_detail(
    db: Session, project_id: str, root: str = PROJECT_PAGE_ROOT
) -> ProjectDetail | None:
    """The context of ``/simple/<project_id>/``; None for an unknown project.

    ``root`` is the site root as seen from the page the context is rendered into.
    """
    package = db.get(Package, project_id)
    if package is None:
        return None
    releases = db.scalars(
        sa.select(Release)
        .where(Release.package_id == project_id)
        .options(selectinload(Release.files))
        .order_by(Release.sort_key)
    ).all()
    # PEP 792: an index MUST NOT offer any file of a quarantined project.
    quarantined = package.status is ProjectStatus.QUARANTINED
    files = (
        _indexed(release, release_file, root)
        for release in releases
        for release_file in ([] if quarantined else release.files)
    )
    return ProjectDetail(
        name=package.id,
        versions=tuple(release.version for release in releases),
        files=tuple(file for file in files if file is not None),
        last_serial=package.last_serial,
        status=package.status,
        status_reason=package.status_reason,
    )


# --- HTML (PEP 503, with the data- attributes of PEPs 592, 658 and 714) ---------------------


def _attribute(name: str, value: str) -> str:
    return f' {name}="{html.escape(value)}"'


def _anchor(file: IndexedFile) -> str:
    attributes = _attribute("href", f"{file.url}#sha256={file.sha256}")
    if file.requires_python:
        attributes += _attribute("data-requires-python", file.requires_python)
    if file.metadata_sha256:
        # PEP 714 renamed the attribute; older pips only know the PEP 658 name.
        attributes += _attribute("data-dist-info-metadata", f"sha256={file.metadata_sha256}")
        attributes += _attribute("data-core-metadata", f"sha256={file.metadata_sha256}")
    if file.yanked:
        attributes += _attribute("data-yanked", file.yanked_reason or "")
    return f"    <a{attributes}>{html.escape(file.filename)}</a><br>\n"


def _status_meta(detail: ProjectDetail) -> str:
    """PEP 792's ``pypi:project-status`` (and its reason), when the status is known."""
    if detail.status is None:
        return ""
    meta = f'    <meta name="pypi:project-status" content="{detail.status.value}">\n'
    if detail.status_reason:
        reason = html.escape(detail.status_reason)
        meta += f'    <meta name="pypi:project-status-reason" content="{reason}">\n'
    return meta


def _html_page(title: str, links: Iterable[str], serial: int, head: str = "") -> bytes:
    escaped = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n{head}'
        f"    <title>{escaped}</title>\n  </head>\n  <body>\n"
        f"    <h1>{escaped}</h1>\n{''.join(links)}  </body>\n</html>\n"
        # After the document, as on PyPI: the serial the page was made at, for mirrors.
        f"<!--SERIAL {serial}-->\n"
    ).encode()


def detail_html(detail: ProjectDetail) -> bytes:
    return _html_page(
        f"Links for {detail.name}",
        (_anchor(file) for file in detail.files),
        detail.last_serial,
        head=_status_meta(detail),
    )


# --- JSON (PEP 691, with PEP 700's additions) -----------------------------------------------


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _file_document(file: IndexedFile) -> dict[str, Any]:
    core_metadata: dict[str, str] | bool = (
        {"sha256": file.metadata_sha256} if file.metadata_sha256 else False
    )
    document: dict[str, Any] = {
        "filename": file.filename,
        "url": file.url,
        "hashes": {"sha256": file.sha256},
        "requires-python": file.requires_python,
        "size": file.size,
        "upload-time": upload_time(file.upload_time) if file.upload_time else None,
        "yanked": (file.yanked_reason or True) if file.yanked else False,
        "core-metadata": core_metadata,
        "dist-info-metadata": core_metadata,
    }
    if file.upload_time is None:
        del document["upload-time"]  # optional in PEP 700; null is not a time
    return document


def detail_json(detail: ProjectDetail) -> bytes:
    document: dict[str, Any] = {
        "meta": {"api-version": API_VERSION, "_last-serial": detail.last_serial},
        "name": detail.name,
        "versions": list(detail.versions),
        "files": [_file_document(file) for file in detail.files],
    }
    if detail.status is not None:
        # PEP 792; the reason only when there is one.
        status: dict[str, str] = {"status": detail.status.value}
        if detail.status_reason:
            status["reason"] = detail.status_reason
        document["project-status"] = status
    return _json_bytes(document)
