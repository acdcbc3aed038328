"""For crawlers: ``/robots.txt`` and ``/sitemap.xml`` (an index of numbered files when large)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.site_root import site_root
from wheelyard.http.transaction import transaction
from wheelyard.services import urls
from wheelyard.services.discovery import sitemap

XML = "application/xml"
# Crawlers come back often enough; an hour keeps a busy index from being re-mapped constantly.
MAX_AGE = 3600
# What names no host may be kept by anyone.
CACHE_CONTROL = {"cache-control": f"public, max-age={MAX_AGE}"}


def robots_txt(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.private:
        # Nothing here is for crawlers; the sitemap would only answer 401.
        return PlainTextResponse("User-agent: *\nDisallow: /\n", headers=CACHE_CONTROL)
    root = site_root(request)
    body = "\n".join(
        [
            "User-agent: *",
            "Allow: /",
            "Disallow: /account",
            "Disallow: /manage",
            f"Sitemap: {root.url}/sitemap.xml",
            "",
        ]
    )
    return PlainTextResponse(body, headers=root.cache_control(MAX_AGE))


def sitemap_file_url(number: int) -> str:
    return f"/sitemap-{number}.xml"


def _per_file() -> int:
    # Read at call time, not bound as a default argument, so that tests can lower it.
    return sitemap.MAX_URLS_PER_SITEMAP


def sitemap_xml(request: Request) -> Response:
    root = site_root(request)
    headers = root.cache_control(MAX_AGE)
    with transaction(request) as db:
        files = sitemap.file_count(db, per_file=_per_file())
        if files > 1:
            paths = (sitemap_file_url(number) for number in range(1, files + 1))
            return Response(sitemap.sitemap_index(root.url, paths), media_type=XML, headers=headers)
        entries = sitemap.entries(db, 1, urls.project_url, per_file=_per_file())
    return Response(sitemap.urlset(root.url, entries), media_type=XML, headers=headers)


def sitemap_part(request: Request) -> Response:
    raw: str = request.path_params["number"]
    # Parsed here, not by an int convertor: int() of a 5,000-digit path would raise.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise HTTPException(404, "There is no such sitemap.")
    number = int(raw)
    with transaction(request) as db:
        files = sitemap.file_count(db, per_file=_per_file())
        if not 1 <= number <= files:
            raise HTTPException(404, f"There is no sitemap number {number}.")
        entries = sitemap.entries(db, number, urls.project_url, per_file=_per_file())
    root = site_root(request)
    return Response(
        sitemap.urlset(root.url, entries), media_type=XML, headers=root.cache_control(MAX_AGE)
    )


routes: list[BaseRoute] = [
    Route("/robots.txt", robots_txt, name="robots"),
    Route("/sitemap.xml", sitemap_xml, name="sitemap"),
    Route("/sitemap-{number}.xml", sitemap_part, name="sitemap_part"),
]
