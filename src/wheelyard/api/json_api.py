"""PyPI's JSON API: ``/pypi/<project>/json`` and ``/pypi/<project>/<version>/json``.

Documents are cached per worker like the simple pages, one per project (and one per
release), whatever Host a request names: their URLs are absolute from
``WHEELYARD_PUBLIC_URL`` (as PyPI's are) when it is set, and relative to the site root
otherwise. Never from the Host header: a client chooses it, and a cache keyed on it would grow
with every name an outsider sends (and serve one client's host to the next).
"""

from __future__ import annotations

from collections.abc import Hashable

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.api import upstream_json
from wheelyard.api.cached_pages import Absent, cached_page, page_response, refresh_if_due
from wheelyard.config import Settings
from wheelyard.data.package import Visibility
from wheelyard.http.project_reader import visible_as
from wheelyard.http.responses import moved_to, not_found
from wheelyard.http.transaction import transaction
from wheelyard.services.access import visibility
from wheelyard.services.index import project_json
from wheelyard.services.index.page_cache import PageCache, RenderedPage
from wheelyard.services.naming import is_valid_project_name, normalize_name

JSON = "application/json"
# Browser tools and dashboards read this API from other origins, as they do PyPI's.
HEADERS = {"Access-Control-Allow-Origin": "*"}


def _project_id(request: Request, suffix: str) -> str | Response:
    """The normalized project, or the response for a name that is invalid or not normal."""
    name: str = request.path_params["project"]
    if not is_valid_project_name(name):
        return not_found()
    project_id = normalize_name(name)
    if name != project_id:
        return moved_to(request, f"/pypi/{project_id}/{suffix}")
    return project_id


# The cache variant of a project's document: one, whoever asks.
PROJECT_VARIANT = "project-json"


def site_root(request: Request) -> str:
    """Where the documents' links start: the public URL, or the root of this site."""
    settings: Settings = request.app.state.settings
    return settings.site_root or "/"


async def project_document(request: Request) -> Response:
    project_id = _project_id(request, "json")
    if isinstance(project_id, Response):
        return project_id
    base_url = site_root(request)
    storage = request.app.state.storage
    variant = PROJECT_VARIANT

    def render(db: Session) -> dict[Hashable, RenderedPage] | None:
        document = project_json.project_document(db, storage, project_id, base_url)
        if document is None:
            return None
        return {variant: RenderedPage(document.body, JSON, document.serial)}

    page = await cached_page(request, project_id, variant, render)
    if page is Absent.NO_PROJECT:
        # No local project: perhaps an upstream's document.
        return await upstream_json.project_document(request, project_id, HEADERS)
    if isinstance(page, Absent):
        return not_found()
    return page_response(request, page, HEADERS)


async def release_document(request: Request) -> Response:
    version: str = request.path_params["version"]
    project_id = _project_id(request, f"{version}/json")
    if isinstance(project_id, Response):
        return project_id
    # Stored only for a version that exists under this spelling (others redirect or 404).
    variant = ("release", version)
    await refresh_if_due(request)
    pages: PageCache = request.app.state.pages
    page = pages.lookup(project_id, variant)
    if page is None:
        # Only public pages are cached: a miss may be a private project.
        shown = await visible_as(request, project_id)
        if shown is None:
            return not_found()
        # Not cached_page: a version in another spelling is a redirect, not a page.
        found = await run_in_threadpool(_render_release, request, project_id, version, variant)
        if isinstance(found, project_json.VersionMoved):
            return moved_to(request, f"/pypi/{project_id}/{found.version}/json")
        if found is None:
            return not_found()
        page = found
    return page_response(request, page, HEADERS)


def _render_release(
    request: Request, project_id: str, version: str, variant: Hashable
) -> RenderedPage | project_json.VersionMoved | None:
    pages: PageCache = request.app.state.pages
    ticket = pages.ticket()
    with transaction(request) as db:
        # Read after the ticket: a project made private meanwhile is not stored as public.
        public = visibility.visibility_of(db, project_id) == Visibility.PUBLIC
        document = project_json.release_document(
            db, request.app.state.storage, project_id, version, site_root(request)
        )
    if not isinstance(document, project_json.JsonDocument):
        return document
    page = RenderedPage(document.body, JSON, document.serial)
    if public:
        pages.store(ticket, project_id, {variant: page})
    return page


routes: list[BaseRoute] = [
    Route("/pypi/{project}/json", project_document, methods=["GET"]),
    Route("/pypi/{project}/{version}/json", release_document, methods=["GET"]),
]
