"""Every URL of the site in one table, as warehouse keeps them."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from wheelyard.api import (
    files,
    health,
    json_api,
    metrics,
    oidc,
    simple,
    stats_api,
    upload,
    xmlrpc,
)
from wheelyard.web.views import (
    accounts,
    admin,
    browse,
    feeds,
    home,
    manage,
    projects,
    publishing,
    readme_images,
    search,
    seo,
    stats,
    teams,
    tokens,
)

STATIC_DIR = Path(__file__).parent / "web" / "static"


def routes() -> list[BaseRoute]:
    return [
        # Machine-facing: pip, uv, twine and mirrors.
        *simple.routes,
        *json_api.routes,
        *files.routes,
        *upload.routes,
        *xmlrpc.routes,
        *oidc.routes,
        *stats_api.routes,
        *metrics.routes,
        *health.routes,
        # People-facing pages.
        *home.routes,
        # Before the project pages, whose /project/<name>/<version>/ would take "stats".
        *stats.routes,
        *projects.routes,
        *readme_images.routes,
        *accounts.routes,
        *tokens.routes,
        *publishing.routes,
        *manage.routes,
        *teams.routes,
        *admin.routes,
        *search.routes,
        *browse.routes,
        *seo.routes,
        *feeds.routes,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
