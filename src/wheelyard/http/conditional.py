"""Conditional GETs: a client that already holds the representation gets a bodiless 304.

Each handler builds its response headers once, ETag among them, and asks ``not_modified``
once; only when that says None does it go on to choose and produce the body (Starlette's
``StaticFiles.is_not_modified`` works the same way).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional request already holds ``etag`` (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def not_modified(if_none_match: str | None, headers: Mapping[str, str]) -> Response | None:
    """The 304 for a request whose ``If-None-Match`` holds ``headers["ETag"]``, else None.

    The 304 carries the same headers the full answer would (ETag, Cache-Control, Vary...),
    as RFC 9110 asks, so a cache can refresh its stored copy from it.
    """
    if etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return None
