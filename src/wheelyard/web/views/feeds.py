"""RSS feeds: ``/rss/updates.xml``, ``/rss/packages.xml``, ``/rss/project/<name>/releases.xml``."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.project_reader import may_see
from wheelyard.http.site_root import site_root
from wheelyard.http.transaction import transaction
from wheelyard.services.discovery import feeds
from wheelyard.services.naming import is_valid_project_name
from wheelyard.services.projects import packages

# Readers poll every few minutes; this spares the database most of those polls.
MAX_AGE = 300


def _site_name(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.site_name


def _respond(request: Request, feed: feeds.Feed) -> Response:
    root = site_root(request)
    body = feeds.render(feed, root.url)
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=root.cache_control(MAX_AGE))


def updates(request: Request) -> Response:
    with transaction(request) as db:
        feed = feeds.updates(db, _site_name(request))
    return _respond(request, feed)


def new_packages(request: Request) -> Response:
    with transaction(request) as db:
        feed = feeds.new_projects(db, _site_name(request))
    return _respond(request, feed)


def project_releases(request: Request) -> Response:
    name: str = request.path_params["name"]
    # Checked before any query, as the project pages do: such a name cannot exist.
    if not is_valid_project_name(name):
        raise HTTPException(404, "There is no project by that name.")
    with transaction(request) as db:
        package = packages.find_package(db, name)
        if package is None or not may_see(request, db, package):
            raise HTTPException(404, f"There is no project named “{name}”.")
        # One feed, one URL: readers that follow the redirect keep the canonical one.
        if name != package.id:
            return RedirectResponse(feeds.project_feed_path(package.id), status_code=301)
        feed = feeds.project_releases(db, package, _site_name(request))
    return _respond(request, feed)


routes: list[BaseRoute] = [
    Route("/rss/updates.xml", updates, name="rss_updates"),
    Route("/rss/packages.xml", new_packages, name="rss_packages"),
    Route("/rss/project/{name}/releases.xml", project_releases, name="rss_project_releases"),
]
