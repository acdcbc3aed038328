"""Paths of the public pages, percent-encoded and built in one place.

Ids in these paths come from data: versions with "+" or "!", licenses such as "C++" or
"GPL-2.0+", languages such as "Python 3.11". Each id is one path segment, so a "/" inside
one is encoded too; the pages' routes accept it back (Starlette decodes the path).
"""

from __future__ import annotations

from urllib.parse import quote

# Legal in a path segment and common in versions ("1!2.0+cpu") and license names ("GPL+").
_READABLE = "+!"


def _segment(value: str) -> str:
    return quote(value, safe=_READABLE)


def project_url(package_id: str, version: str | None = None) -> str:
    """A project's page, or one release's page when ``version`` is given."""
    path = f"/project/{_segment(package_id)}/"
    return path if version is None else f"{path}{_segment(version)}/"


def license_url(license_id: str) -> str:
    return f"/licenses/{_segment(license_id)}/"


def language_url(language_id: str) -> str:
    return f"/languages/{_segment(language_id)}/"


def search_url(query: str, page: int = 1) -> str:
    path = f"/search?q={quote(query, safe='')}"
    return path if page == 1 else f"{path}&page={page}"


def classifier_search_url(classifier: str) -> str:
    """The search listing every project with ``classifier`` (or one of its children)."""
    return f"/search?c={quote(classifier, safe='')}"
