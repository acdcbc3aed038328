"""Each release's own core metadata (data/release_metadata.py): made from what came with it.

Uploads and ``wheelyard import dists`` give the metadata as packaging reads it (RawMetadata,
the fields as the uploader wrote them, which is what PyPI shows); the importer of PyPI JSON
documents gives a document's ``info``. Either way the README comes rendered (once, before
the write) and the license is filed under one name, as the project's is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.metadata import RawMetadata

from wheelyard.data.release_metadata import ReleaseMetadata
from wheelyard.services.projects.licenses import license_name


def _texts(value: object) -> list[str] | None:
    """A list of non-empty strings, or None for an empty or malformed one."""
    if not isinstance(value, list):
        return None
    texts = [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return texts or None


def _urls(value: object) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    urls = {
        label.strip(): url.strip()
        for label, url in value.items()
        if isinstance(label, str) and isinstance(url, str) and label.strip() and url.strip()
    }
    return urls or None


def _license_name(
    expression: str | None, text: str | None, classifiers: list[str] | None
) -> str | None:
    return license_name(expression=expression, license_text=text, classifiers=classifiers or [])


def from_raw(raw: RawMetadata, *, description_html: str | None) -> ReleaseMetadata:
    """A new row (not yet added to a session) from a release's core metadata."""
    classifiers = _texts(raw.get("classifiers"))
    return ReleaseMetadata(
        summary=raw.get("summary"),
        description=raw.get("description"),
        description_content_type=raw.get("description_content_type"),
        description_html=description_html,
        keywords=_texts(raw.get("keywords")),
        home_page=raw.get("home_page"),
        download_url=raw.get("download_url"),
        project_urls=_urls(raw.get("project_urls")),
        author=raw.get("author"),
        author_email=raw.get("author_email"),
        maintainer=raw.get("maintainer"),
        maintainer_email=raw.get("maintainer_email"),
        license=raw.get("license"),
        license_expression=raw.get("license_expression"),
        license_files=_texts(raw.get("license_files")),
        license_name=_license_name(raw.get("license_expression"), raw.get("license"), classifiers),
        classifiers=classifiers,
        requires_dist=_texts(raw.get("requires_dist")),
        provides_extra=_texts(raw.get("provides_extra")),
        requires_python=raw.get("requires_python"),
        platforms=_texts(raw.get("platforms")),
        dynamic=_texts(raw.get("dynamic")),
    )


def _document_text(info: Mapping[str, Any], key: str) -> str | None:
    # distutils wrote "UNKNOWN" into every field nobody filled in; it means "not given".
    value = info.get(key)
    if not isinstance(value, str) or not value.strip() or value.strip() == "UNKNOWN":
        return None
    return value


def _known_urls(value: object) -> dict[str, str]:
    """Project URLs of a document, less those dumps say "UNKNOWN" or "" for."""
    if not isinstance(value, Mapping):
        return {}
    return {label: url for label, url in value.items() if _document_text(value, label)}


def from_document(info: Mapping[str, Any], *, description_html: str | None) -> ReleaseMetadata:
    """A new row from a PyPI JSON document's ``info`` (the metadata of one release)."""

    def text(key: str) -> str | None:
        return _document_text(info, key)

    keywords = text("keywords")
    classifiers = _texts(info.get("classifiers"))
    return ReleaseMetadata(
        summary=text("summary"),
        description=text("description"),
        description_content_type=text("description_content_type"),
        description_html=description_html,
        keywords=_texts(keywords.split(",")) if keywords else None,
        home_page=text("home_page"),
        download_url=text("download_url"),
        docs_url=text("docs_url"),
        project_urls=_urls(_known_urls(info.get("project_urls"))),
        author=text("author"),
        author_email=text("author_email"),
        maintainer=text("maintainer"),
        maintainer_email=text("maintainer_email"),
        license=text("license"),
        license_expression=text("license_expression"),
        license_files=_texts(info.get("license_files")),
        license_name=_license_name(text("license_expression"), text("license"), classifiers),
        classifiers=classifiers,
        requires_dist=_texts(info.get("requires_dist")),
        provides_extra=_texts(info.get("provides_extra")),
        requires_python=text("requires_python"),
        platforms=_texts(info.get("platform")) if isinstance(info.get("platform"), list) else None,
        dynamic=_texts(info.get("dynamic")),
    )
