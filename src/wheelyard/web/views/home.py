from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wheelyard.http.transaction import transaction
from wheelyard.services.projects import packages
from wheelyard.web.templating import render


def index(request: Request) -> Response:
    with transaction(request) as db:
        counts = packages.index_counts(db)
        newest = packages.newest_releases(db, limit=10)
    return render(request, "home/index.html", counts=counts, releases=newest)


routes = [Route("/", index, name="home")]
