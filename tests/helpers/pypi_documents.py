"""Documents as PyPI's JSON API serves them, written small for each case a test needs."""

from __future__ import annotations

import hashlib
from typing import Any


def pypi_file(
    filename: str,
    *,
    uploaded: str = "2020-01-01T00:00:00",
    size: int = 1000,
    content: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A file entry as PyPI's JSON API lists it; the digest follows ``content`` (or the name)."""
    data = (content or filename).encode()
    return {
        "filename": filename,
        "packagetype": "sdist" if filename.endswith(".tar.gz") else "bdist_wheel",
        "python_version": "source" if filename.endswith(".tar.gz") else "py3",
        "size": size,
        "digests": {
            "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        "md5_digest": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "upload_time": uploaded,
        "url": f"https://files.example.org/{filename}",
        "comment_text": "",
        **extra,
    }


def pypi_document(
    name: str, releases: dict[str, list[dict[str, Any]]], **info: Any
) -> dict[str, Any]:
    """A project's document with these releases; ``info`` fields override the defaults."""
    newest = info.pop("version", None) or (list(releases)[-1] if releases else "")
    return {
        "info": {
            "name": name,
            "version": newest,
            "summary": f"The {name} project",
            "author": "",
            "author_email": "",
            "maintainer": "",
            "maintainer_email": "",
            "classifiers": [],
            "package_url": f"https://pypi.org/project/{name}/",
            **info,
        },
        "releases": releases,
        "urls": releases.get(newest, []),
        "last_serial": 1,
    }
