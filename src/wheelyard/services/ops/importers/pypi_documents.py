"""Reading PyPI JSON API documents (the body of https://pypi.org/pypi/<name>/json).

A document describes one project: ``info`` (the metadata of its newest release),
``releases`` (every version with its files) and ``urls`` (the newest release's files).
Dumps are old and hand-made as often as not, so nothing in one is trusted: a value of the
wrong type counts as missing, distutils' "UNKNOWN" counts as missing, text is cut to its
column, and a file entry that cannot be stored is returned with the reason why not.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.data.release_file import ReleaseFile

# distutils wrote this into every metadata field nobody filled in; it means "not given".
_PLACEHOLDER = "UNKNOWN"
_HEX = re.compile(r"^[0-9a-f]+$")


class DocumentError(ValueError):
    """The document cannot be imported at all; the message says why, for the operator."""


@dataclass(frozen=True)
class ListedFile:
    """One entry of a release's file list, checked and cleaned."""

    filename: str
    packagetype: str
    size: int
    sha256: str
    md5: str | None
    blake2_256: str | None
    python_version: str | None
    requires_python: str | None
    uploaded: dt.datetime | None
    url: str | None
    comment: str | None
    yanked: bool
    yanked_reason: str | None


def parse_document(data: bytes | str) -> Mapping[str, Any]:
    """The document as a mapping; DocumentError when it is not JSON or not an object."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise DocumentError(f"not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise DocumentError("not a PyPI JSON document: the top level is not an object")
    return document


def mapping_of(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one: a malformed part reads as absent."""
    return value if isinstance(value, Mapping) else {}


def text_of(value: object) -> str | None:
    """A metadata string, or None for anything that is not one, empty or the placeholder."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and value != _PLACEHOLDER else None


@functools.cache
def column_width(model: type[SqlAlchemyBase], column: str) -> int:
    """How many characters ``model.column`` holds (no limit: as many as Python can)."""
    length = getattr(sa.inspect(model).columns[column].type, "length", None)
    return length if isinstance(length, int) else sys.maxsize


def fit(value: str | None, model: type[SqlAlchemyBase], column: str) -> str | None:
    """Cut descriptive text to its column: a long summary must not cost the whole project."""
    return value[: column_width(model, column)] if value is not None else None


def _timestamp(value: object) -> dt.datetime | None:
    """PyPI's upload time as naive UTC (older documents give it without a zone, in UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _hex(value: object, length: int) -> str | None:
    text = text_of(value)
    if text is None or len(text) != length:
        return None
    text = text.lower()
    return text if _HEX.match(text) else None


def read_file_entry(entry: object) -> ListedFile | str:
    """The file entry, or why it cannot be taken."""
    data = mapping_of(entry)
    filename = text_of(data.get("filename"))
    if filename is None:
        return "the entry has no filename"
    if len(filename) > column_width(ReleaseFile, "filename") or "/" in filename or "\\" in filename:
        return "the filename is not a plain file name"
    digests = mapping_of(data.get("digests"))
    sha256 = _hex(digests.get("sha256"), 64)
    if sha256 is None:
        return "the entry has no valid sha256 digest"
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "the entry has no valid size"
    packagetype = text_of(data.get("packagetype"))
    if packagetype is None or len(packagetype) > column_width(ReleaseFile, "packagetype"):
        return "the entry has no valid packagetype"
    return ListedFile(
        filename=filename,
        packagetype=packagetype,
        size=size,
        sha256=sha256,
        md5=_hex(digests.get("md5") or data.get("md5_digest"), 32),
        # PyPI names it blake2b_256; accept the column's own spelling too.
        blake2_256=_hex(digests.get("blake2b_256") or digests.get("blake2_256"), 64),
        python_version=fit(text_of(data.get("python_version")), ReleaseFile, "python_version"),
        requires_python=fit(text_of(data.get("requires_python")), ReleaseFile, "requires_python"),
        uploaded=_timestamp(data.get("upload_time_iso_8601") or data.get("upload_time")),
        url=fit(text_of(data.get("url")), ReleaseFile, "url"),
        comment=text_of(data.get("comment_text")),
        yanked=data.get("yanked") is True,
        yanked_reason=text_of(data.get("yanked_reason")),
    )


def listed_releases(document: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, list[Any]]:
    """version -> raw file entries, including the newest release when only ``urls`` lists it."""
    releases = {
        version: files if isinstance(files, list) else []
        for version, files in mapping_of(document.get("releases")).items()
        if isinstance(version, str)
    }
    # The per-version document (/pypi/<name>/<version>/json) has no "releases" at all.
    newest = text_of(info.get("version"))
    if newest is not None and newest not in releases and isinstance(document.get("urls"), list):
        releases[newest] = document["urls"]
    return releases
