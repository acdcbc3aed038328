"""The configured upstream indexes, and the names that are never fetched from them.

Credentials written into ``WHEELYARD_UPSTREAM_URL`` are taken out of the URL and sent as
HTTP Basic auth, so that the URLs kept in the database and shown anywhere carry none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import unquote, urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class Upstream:
    url: str  # the index URL without credentials, ending in "/"
    auth: tuple[str, str] | None = field(default=None, repr=False)

    def project_url(self, project_id: str) -> str:
        return f"{self.url}{project_id}/"


def upstream_of(url: str) -> Upstream:
    parts = urlsplit(url)
    if parts.username is None:
        return Upstream(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # an IPv6 literal
    if parts.port is not None:
        netloc += f":{parts.port}"
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return Upstream(bare, (unquote(parts.username), unquote(parts.password or "")))


def upstreams(urls: tuple[str, ...]) -> tuple[Upstream, ...]:
    return tuple(upstream_of(url) for url in urls)


def is_blocked(project_id: str, patterns: tuple[str, ...]) -> bool:
    """Whether a normalized name matches a ``WHEELYARD_UPSTREAM_BLOCK`` pattern."""
    return any(fnmatchcase(project_id, pattern) for pattern in patterns)
