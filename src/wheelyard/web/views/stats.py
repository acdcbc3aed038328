"""Download statistics pages: ``/project/<name>/stats/``, ``/stats/`` and their SVG charts.

Every figure comes from the rollups (services.analytics.stats), so a page costs the same
however many downloads a project has. Charts are separate SVG images (see
services.analytics.charts); each sits
above a table that holds the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.download_breakdown import Dimension
from wheelyard.data.package import Package
from wheelyard.http.project_reader import may_see
from wheelyard.http.transaction import transaction
from wheelyard.services.analytics import charts, project_sizes, stats
from wheelyard.services.analytics.stats import CategoryCount
from wheelyard.services.naming import is_valid_project_name
from wheelyard.services.projects import packages
from wheelyard.web.session import session_user
from wheelyard.web.templating import render

# Figures change with every download; a minute keeps busy pages cheap and still current.
CACHE_CONTROL = "public, max-age=60"
# A page for someone signed in names them and holds their CSRF token: no shared cache may
# keep it. On a private index, nothing is for everyone.
PERSONAL = "private, no-store"


def _page_headers(request: Request) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    personal = settings.private or session_user(request) is not None
    return {"Cache-Control": PERSONAL if personal else CACHE_CONTROL}


# A chart is an image: no script may run in it, and its inline styles stay inside it.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SPARKLINE_DAYS = 30


@dataclass(frozen=True)
class Breakdown:
    """One breakdown section of a project's stats page: chart name, heading and rows."""

    chart: str
    title: str
    column: str
    rows: list[CategoryCount]


_DIMENSIONS = {
    "version": Dimension.VERSION,
    "python": Dimension.PYTHON,
    "python_major": Dimension.PYTHON,
    "installer": Dimension.INSTALLER,
    "system": Dimension.SYSTEM,
}
_BREAKDOWNS = (
    ("version", "By version", "Version"),
    ("python", "By Python version", "Python"),
    ("installer", "By installer", "Installer"),
    ("system", "By operating system", "System"),
)


def _breakdown(db: Session, package_id: str, chart: str, days: int) -> list[CategoryCount]:
    if chart == "python_major":
        return stats.by_python_major(db, package_id, days=days)
    return stats.breakdown(db, package_id, _DIMENSIONS[chart], days=days)


def _project(request: Request, db: Session) -> Package:
    name: str = request.path_params["name"]
    if not is_valid_project_name(name):
        raise HTTPException(404, "There is no project by that name.")
    package = packages.find_package(db, name)
    if package is None or not may_see(request, db, package):
        raise HTTPException(404, f"There is no project named “{name}”.")
    return package


def project_stats(request: Request) -> Response:
    with transaction(request) as db:
        package = _project(request, db)
        if request.path_params["name"] != package.id:
            return RedirectResponse(f"/project/{package.id}/stats/", status_code=301)
        days = stats.SERIES_DAYS
        daily = stats.daily(db, package.id, days)
        breakdowns = [
            Breakdown(chart, title, column, _breakdown(db, package.id, chart, days))
            for chart, title, column in _BREAKDOWNS
        ]
        recent = stats.recent(db, package.id)
        return render(
            request,
            "stats/project.html",
            headers=_page_headers(request),
            package=package,
            recent=recent,
            days=days,
            daily=list(reversed(daily)),  # the table reads newest first
            daily_total=sum(count for _, count in daily),
            breakdowns=breakdowns,
        )


def _chart_size(request: Request) -> charts.ChartSize:
    """``?size=narrow`` for the phone variant the pages offer through ``<picture>``."""
    size = request.query_params.get("size")
    if size is None:
        return charts.WIDE
    if size == "narrow":
        return charts.NARROW
    raise HTTPException(400, "size is narrow or left out.")


def _svg(body: bytes) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL, "Content-Security-Policy": SVG_POLICY}
    return Response(body, media_type=charts.SVG_MEDIA_TYPE, headers=headers)


def project_chart(request: Request) -> Response:
    chart: str = request.path_params["chart"]
    if chart != "daily" and chart != "sparkline" and chart not in _DIMENSIONS:
        raise HTTPException(404, "There is no such chart.")
    with transaction(request) as db:
        package = _project(request, db)
        if chart == "sparkline":
            series = stats.daily(db, package.id, SPARKLINE_DAYS)
            return _svg(charts.sparkline([count for _, count in series]))
        days = stats.SERIES_DAYS
        if chart == "daily":
            title = f"{package.name}: downloads per day"
            series = stats.daily(db, package.id, days)
            return _svg(charts.daily_chart(series, title, _chart_size(request)))
        rows = _breakdown(db, package.id, chart, days)
    return _svg(charts.breakdown_chart(rows, f"{package.name}: downloads by {chart}"))


def index_stats_page(request: Request) -> Response:
    with transaction(request) as db:
        return render(
            request,
            "stats/index.html",
            headers=_page_headers(request),
            recent=stats.recent(db, None),
            daily_total=sum(count for _, count in stats.daily(db, None, stats.SERIES_DAYS)),
            days=stats.SERIES_DAYS,
            counts=packages.index_counts(db),
            total_size=project_sizes.total_size(db),
            top_downloads=stats.top_projects(db, limit=20),
            top_size=project_sizes.top_by_size(db, limit=20),
        )


def index_chart(request: Request) -> Response:
    size = _chart_size(request)
    with transaction(request) as db:
        series = stats.daily(db, None, stats.SERIES_DAYS)
    return _svg(charts.daily_chart(series, "All projects: downloads per day", size))


routes: list[BaseRoute] = [
    Route("/stats/", index_stats_page, name="stats"),
    Route("/stats/daily.svg", index_chart),
    Route("/project/{name}/stats/", project_stats, name="project_stats"),
    Route("/project/{name}/stats/{chart}.svg", project_chart),
]
