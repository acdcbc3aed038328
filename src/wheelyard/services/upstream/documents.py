"""An upstream project page read into files: from PEP 691 JSON or from PEP 503 HTML.

Both come down to the same ``UpstreamFile`` list, which is what the database keeps and what
our own pages are rendered from. A file without a sha256 is left out: its download could
not be checked, and serving an unchecked file is what this cache must never do.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

SHA256_LENGTH = 64


class UpstreamPageError(ValueError):
    """The upstream answered with a page we cannot read."""


@dataclass(frozen=True, slots=True)
class UpstreamFile:
    filename: str
    url: str  # absolute, on the upstream
    sha256: str
    size: int | None
    upload_time: str | None  # as the upstream spelt it (ISO 8601)
    requires_python: str | None
    yanked: bool
    yanked_reason: str | None
    metadata_sha256: str | None


@dataclass(frozen=True, slots=True)
class UpstreamListing:
    versions: tuple[str, ...]
    files: tuple[UpstreamFile, ...]

    def to_json(self) -> str:
        return json.dumps(
            {"versions": list(self.versions), "files": [asdict(file) for file in self.files]},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> UpstreamListing:
        document = json.loads(text)
        return cls(
            versions=tuple(document["versions"]),
            files=tuple(UpstreamFile(**file) for file in document["files"]),
        )


def _sha256(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.lower()
    if len(value) != SHA256_LENGTH or any(c not in "0123456789abcdef" for c in value):
        return None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _versions(files: tuple[UpstreamFile, ...], listed: object) -> tuple[str, ...]:
    if isinstance(listed, list) and all(isinstance(item, str) for item in listed):
        return tuple(listed)
    found = {version for file in files if (version := version_of(file.filename)) is not None}
    return tuple(str(version) for version in sorted(found))


def _metadata_hash(value: object) -> str | None:
    if isinstance(value, dict):
        return _sha256(value.get("sha256"))
    return None


def parse_json(body: bytes, page_url: str) -> UpstreamListing:
    """A PEP 691 project page."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UpstreamPageError(f"not a JSON page: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise UpstreamPageError("a JSON page without a files list")
    files = []
    for entry in document["files"]:
        if not isinstance(entry, dict):
            continue
        filename, url = _text(entry.get("filename")), _text(entry.get("url"))
        hashes = entry.get("hashes")
        sha256 = _sha256(hashes.get("sha256")) if isinstance(hashes, dict) else None
        if filename is None or url is None or sha256 is None or "/" in filename:
            continue
        yanked = entry.get("yanked", False)
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
        size = entry.get("size")
        files.append(
            UpstreamFile(
                filename=filename,
                url=urljoin(page_url, url),
                sha256=sha256,
                size=size if isinstance(size, int) and size >= 0 else None,
                upload_time=_text(entry.get("upload-time")),
                requires_python=_text(entry.get("requires-python")),
                yanked=bool(yanked),
                yanked_reason=_text(yanked),
                metadata_sha256=_metadata_hash(metadata),
            )
        )
    listed = tuple(files)
    return UpstreamListing(_versions(listed, document.get("versions")), listed)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def _fragment_hash(fragment: str) -> str | None:
    name, _, value = fragment.partition("=")
    return _sha256(value) if name == "sha256" else None


def parse_html(body: bytes, page_url: str) -> UpstreamListing:
    """A PEP 503 project page, with the data- attributes of PEPs 592, 658 and 714."""
    parser = _Anchors()
    try:
        parser.feed(body.decode("utf-8"))
        parser.close()
    except UnicodeDecodeError as error:
        raise UpstreamPageError(f"not a UTF-8 page: {error}") from None
    files = []
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(page_url, href))
        sha256 = _fragment_hash(fragment)
        # PEP 503: the anchor's text is the filename; the URL's last segment, unquoted, if not.
        filename = text or unquote(url.rsplit("/", 1)[-1])
        if sha256 is None or not filename or "/" in filename:
            continue
        metadata = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        yanked = "data-yanked" in attrs
        files.append(
            UpstreamFile(
                filename=filename,
                url=url,
                sha256=sha256,
                size=None,
                upload_time=None,
                requires_python=_text(attrs.get("data-requires-python")),
                yanked=yanked,
                yanked_reason=_text(attrs.get("data-yanked")),
                metadata_sha256=_fragment_hash(metadata) if metadata else None,
            )
        )
    listed = tuple(files)
    return UpstreamListing(_versions(listed, None), listed)


def parse_page(body: bytes, content_type: str, page_url: str) -> UpstreamListing:
    media = content_type.split(";", 1)[0].strip().lower()
    if media.endswith("+json") or media == "application/json":
        return parse_json(body, page_url)
    return parse_html(body, page_url)
