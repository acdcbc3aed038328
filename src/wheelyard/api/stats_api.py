"""pypistats.org's JSON API over this index's downloads: ``/api/packages/<project>/<kind>``.

Same URLs, parameters and documents as pypistats.org, so its clients (the ``pypistats``
command, dashboards, badges) work against a private index unchanged:
``{"data": ..., "package": "<normalized name>", "type": "<kind>_downloads"}``, time series as
``{"category", "date", "downloads"}`` items ordered by category then date, "null" where the
client did not say, and mirrors left out except in ``overall``'s "with_mirrors".
Beyond pypistats: ``installer`` and ``version`` (release) series, a ``mirrors`` switch on
every series, and figures that include today. A project without downloads answers with
empty data; a project that does not exist, 404.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.data.download_breakdown import Dimension
from wheelyard.data.package import Package
from wheelyard.http.project_reader import may_see
from wheelyard.http.responses import moved_to
from wheelyard.http.transaction import transaction
from wheelyard.services.analytics import stats
from wheelyard.services.analytics.user_agents import INSTALLERS
from wheelyard.services.naming import is_valid_project_name, normalize_name

# Browser tools and dashboards read this API from other origins, as they do pypistats.org's.
HEADERS = {"Access-Control-Allow-Origin": "*"}
NULL = "null"  # pypistats' category for "the client did not say"
PERIODS = {"day": stats.DAY, "week": stats.WEEK, "month": stats.MONTH}
# pypistats.org's systems; every other one is "other".
SYSTEMS = ("Darwin", "Linux", "Windows")
BOOLEANS = {"true": True, "false": False}


class BadParameter(ValueError):
    """A query parameter the API cannot answer; the message says why (400)."""


def _as_stored(value: str | None) -> str:
    return value if value is not None else NULL


@dataclass(frozen=True)
class Series:
    """One breakdown endpoint: its filter parameter and where its rows come from."""

    parameter: str
    # The filter's canonical category for a value, or BadParameter.
    read_filter: Callable[[str], str]
    rows: Callable[[Session, str, bool], list[stats.DailyCategoryCount]]
    # The category a stored one answers as.
    category: Callable[[str | None], str] = _as_stored


def _pattern(parameter: str, pattern: str, example: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def read(value: str) -> str:
        if value == NULL or compiled.fullmatch(value):
            return value
        raise BadParameter(f"{parameter} must look like {example} (or be null), not {value!r}")

    return read


def _choice(parameter: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    by_key = {choice.lower(): choice for choice in (*choices, NULL)}

    def read(value: str) -> str:
        try:
            return by_key[value.lower()]
        except KeyError:
            names = ", ".join(by_key)
            raise BadParameter(f"{parameter} must be one of {names}, not {value!r}") from None

    return read


def _any_version(value: str) -> str:
    if not value or len(value) > 100:
        raise BadParameter("version must be a release version of at most 100 characters")
    return value


def _system(value: str | None) -> str:
    if value is None:
        return NULL
    return value if value in SYSTEMS else "other"


def _daily(dimension: Dimension) -> Callable[[Session, str, bool], list[stats.DailyCategoryCount]]:
    def rows(db: Session, project_id: str, mirrors: bool) -> list[stats.DailyCategoryCount]:
        return stats.daily_breakdown(db, project_id, dimension, mirrors=mirrors)

    return rows


def _daily_python_major(
    db: Session, project_id: str, mirrors: bool
) -> list[stats.DailyCategoryCount]:
    return stats.daily_python_major(db, project_id, mirrors=mirrors)


SERIES = {
    "python_major": Series("version", _pattern("version", r"\d+", '"3"'), _daily_python_major),
    "python_minor": Series(
        "version", _pattern("version", r"\d+\.\d+", '"3.12"'), _daily(Dimension.PYTHON)
    ),
    "system": Series("os", _choice("os", (*SYSTEMS, "other")), _daily(Dimension.SYSTEM), _system),
    "installer": Series("installer", _choice("installer", INSTALLERS), _daily(Dimension.INSTALLER)),
    "version": Series("version", _any_version, _daily(Dimension.VERSION)),
}


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return BOOLEANS[value.lower()]
    except KeyError:
        raise BadParameter(f"{name} must be true or false, not {value!r}") from None


def _project_exists(request: Request, db: Session, project_id: str) -> bool:
    """Whether there is such a project for this reader (a private one only with a role)."""
    package = db.get(Package, project_id)
    return package is not None and may_see(request, db, package)


def _recent(request: Request, project_id: str) -> Any:
    period = request.query_params.get("period")
    if period is not None and period not in PERIODS:
        raise BadParameter(f"period must be one of day, week, month, not {period!r}")
    with transaction(request) as db:
        if not _project_exists(request, db, project_id):
            return None
        counts = stats.recent(db, project_id)._asdict()
    wanted = PERIODS if period is None else (period,)
    return {f"last_{name}": counts[f"last_{name}"] for name in sorted(wanted)}


def _overall(request: Request, project_id: str) -> Any:
    mirrors = _flag(request, "mirrors")
    categories = {"with_mirrors": True, "without_mirrors": False}
    if mirrors is not None:
        categories = {"with_mirrors" if mirrors else "without_mirrors": mirrors}
    with transaction(request) as db:
        if not _project_exists(request, db, project_id):
            return None
        series = {
            category: stats.daily(db, project_id, mirrors=with_mirrors)
            for category, with_mirrors in categories.items()
        }
    return [
        _item(category, day, downloads)
        for category, days in series.items()
        for day, downloads in days
        if downloads
    ]


def _breakdown(request: Request, project_id: str, kind: str) -> Any:
    series = SERIES[kind]
    wanted = request.query_params.get(series.parameter)
    category_filter = series.read_filter(wanted) if wanted is not None else None
    mirrors = bool(_flag(request, "mirrors"))
    with transaction(request) as db:
        if not _project_exists(request, db, project_id):
            return None
        rows = series.rows(db, project_id, mirrors)
    # Several stored categories can answer as one ("FreeBSD" and "SunOS" are both "other").
    totals: Counter[tuple[str, dt.date]] = Counter()
    for row in rows:
        category = series.category(row.category)
        if category_filter is None or category == category_filter:
            totals[category, row.day] += row.downloads
    return [_item(category, day, n) for (category, day), n in sorted(totals.items())]


def _item(category: str, day: dt.date, downloads: int) -> dict[str, Any]:
    return {"category": category, "date": day.isoformat(), "downloads": downloads}


def _endpoint(kind: str) -> Callable[[Request], Any]:
    answer: Callable[[Request, str], Any]
    if kind == "recent":
        answer = _recent
    elif kind == "overall":
        answer = _overall
    else:

        def answer(request: Request, project_id: str) -> Any:
            return _breakdown(request, project_id, kind)

    async def endpoint(request: Request) -> Response:
        name: str = request.path_params["project"]
        if not is_valid_project_name(name):
            return _error(404, f"no project named {name!r}")
        project_id = normalize_name(name)
        if name != project_id:
            return moved_to(request, f"/api/packages/{project_id}/{kind}")
        try:
            data = await run_in_threadpool(answer, request, project_id)
        except BadParameter as error:
            return _error(400, str(error))
        if data is None:
            return _error(404, f"no project named {name!r}")
        document = {"data": data, "package": project_id, "type": f"{kind}_downloads"}
        return JSONResponse(document, headers=HEADERS)

    return endpoint


def _error(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status, headers=HEADERS)


KINDS = ("recent", "overall", *SERIES)

routes: list[BaseRoute] = [
    Route(f"/api/packages/{{project}}/{kind}", _endpoint(kind), methods=["GET"]) for kind in KINDS
]
