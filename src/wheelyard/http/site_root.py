"""Where absolute links start, and whether an answer carrying them may be kept by shared caches.

Sitemaps, RSS and robots.txt's ``Sitemap:`` line need absolute URLs by their specifications.
They come from ``WHEELYARD_PUBLIC_URL`` when it is set. Otherwise the only root there is, is the
one the request names (its Host header, which the client chose), so the answer is marked
``private``: a proxy or CDN in between never keeps it and hands one client's Host to the next,
while the client's own cache, which only ever sees the host it asked for, still may.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from wheelyard.config import Settings


@dataclass(frozen=True, slots=True)
class SiteRoot:
    url: str  # scheme, host and any prefix, without a trailing slash
    from_request: bool  # built from the request's Host: for the client's own cache only

    def cache_control(self, max_age: int) -> dict[str, str]:
        scope = "private" if self.from_request else "public"
        return {"cache-control": f"{scope}, max-age={max_age}"}


def site_root(request: Request) -> SiteRoot:
    settings: Settings = request.app.state.settings
    if settings.public_url is not None:
        return SiteRoot(settings.public_url, from_request=False)
    return SiteRoot(str(request.base_url).rstrip("/"), from_request=True)
