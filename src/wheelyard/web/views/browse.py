"""Browsing: ``/licenses/`` and ``/languages/`` with counts, and the packages of each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.language import Language
from wheelyard.data.license import License
from wheelyard.data.package import Package
from wheelyard.http.transaction import transaction
from wheelyard.services import urls
from wheelyard.services.discovery import browse
from wheelyard.services.discovery.pagination import InvalidPage, Page, PageOutOfRange, parse_page
from wheelyard.services.projects import packages
from wheelyard.web.templating import render


@dataclass(frozen=True)
class Kind:
    """What sets the license pages and the language pages apart; the rest is shared."""

    singular: str
    plural: str
    index_url: str
    counts: Callable[[Session, browse.Sort], list[browse.Facet]]
    find: Callable[[Session, str], License | Language | None]
    packages: Callable[[Session, str, int, int], Page[Package]]
    url: Callable[[str], str]


LICENSES = Kind(
    singular="license",
    plural="licenses",
    index_url="/licenses/",
    counts=browse.license_counts,
    find=browse.find_license,
    packages=browse.packages_with_license,
    url=urls.license_url,
)
LANGUAGES = Kind(
    singular="language",
    plural="languages",
    index_url="/languages/",
    counts=browse.language_counts,
    find=browse.find_language,
    packages=browse.packages_in_language,
    url=urls.language_url,
)


def _sort(request: Request) -> browse.Sort:
    # Anything unrecognised gets the default order rather than an error page: it is only
    # an ordering, and old or hand-typed links should still show the list.
    return "name" if request.query_params.get("sort") == "name" else "projects"


def _index(request: Request, kind: Kind) -> Response:
    sort = _sort(request)
    with transaction(request) as db:
        facets = kind.counts(db, sort)
    return render(request, "browse/index.html", kind=kind, facets=facets, sort=sort, urls=urls)


def _detail(request: Request, kind: Kind) -> Response:
    facet_id: str = request.path_params["facet_id"]
    try:
        number = parse_page(request.query_params.get("page"))
    except InvalidPage as error:
        raise HTTPException(400, str(error)) from error
    settings: Settings = request.app.state.settings
    with transaction(request) as db:
        facet = kind.find(db, facet_id)
        if facet is None:
            raise HTTPException(404, f"There is no {kind.singular} by that name.")
        try:
            page = kind.packages(db, facet_id, number, settings.page_size)
        except PageOutOfRange as error:
            raise HTTPException(404, str(error)) from error
        summaries = packages.summarize(db, page.items)
    return render(
        request,
        "browse/detail.html",
        kind=kind,
        facet_id=facet_id,
        description=facet.description,
        page=page,
        summaries=summaries,
        page_url_prefix=f"{kind.url(facet_id)}?page=",
        urls=urls,
    )


def licenses(request: Request) -> Response:
    return _index(request, LICENSES)


def license_packages(request: Request) -> Response:
    return _detail(request, LICENSES)


def languages(request: Request) -> Response:
    return _index(request, LANGUAGES)


def language_packages(request: Request) -> Response:
    return _detail(request, LANGUAGES)


routes: list[BaseRoute] = [
    Route("/licenses/", licenses, name="licenses"),
    # Path convertors: an id is one encoded segment, but may hold a "/" once decoded.
    Route("/licenses/{facet_id:path}/", license_packages, name="license"),
    Route("/languages/", languages, name="languages"),
    Route("/languages/{facet_id:path}/", language_packages, name="language"),
]
