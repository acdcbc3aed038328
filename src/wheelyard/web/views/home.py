from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wheelyard.http.site_root import site_root
from wheelyard.http.transaction import transaction
from wheelyard.services.projects import packages
from wheelyard.web.templating import render


def index(request: Request) -> Response:
    with transaction(request) as db:
        counts = packages.index_counts(db)
        newest = packages.newest_releases(db, limit=10)
    root = site_root(request).url
    return render(
        request,
        "home/index.html",
        counts=counts,
        releases=newest,
        # For the empty index's "how to publish", with this index's own URLs to copy.
        upload_url=f"{root}/legacy/",
        simple_url=f"{root}/simple/",
    )


routes = [Route("/", index, name="home")]
