"""The Simple Repository API pip and uv install from: ``/simple/`` and ``/simple/<project>/``.

HTML (PEP 503) or JSON (PEP 691) by ``Accept``, both rendered from one context and served
from the worker's page cache, which the journal keeps current (api/cached_pages.py,
services/index/page_cache.py); the list of every project is kept in chunks and streamed
(services/index/project_list.py).
A cached page costs no database query: the hot path is an ``Accept`` lookup and a dict get.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from functools import lru_cache

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from wheelyard.api import upstream_pages
from wheelyard.api.cached_pages import (
    REVALIDATE,
    REVALIDATE_PRIVATE,
    Absent,
    cached_page,
    page_response,
    refresh_if_due,
)
from wheelyard.http.conditional import not_modified
from wheelyard.http.project_reader import readable_ids, reader_of, shown_private
from wheelyard.http.responses import moved_to, not_found
from wheelyard.http.transaction import transaction
from wheelyard.services.index.page_cache import PageCache, RenderedPage
from wheelyard.services.index.project_list import ListingPage
from wheelyard.services.index.project_page import detail_html, detail_json, project_detail
from wheelyard.services.naming import is_valid_project_name, normalize_name

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
# When a client ranks several equally (say ``*/*``), the first of these wins: browsers and
# curl get a page they can show.
OFFERS = (TEXT_HTML, SIMPLE_HTML, SIMPLE_JSON)
# PEP 691's "latest" names; the response names the concrete version.
ALIASES = {
    "application/vnd.pypi.simple.latest+json": SIMPLE_JSON,
    "application/vnd.pypi.simple.latest+html": SIMPLE_HTML,
}
NOT_ACCEPTABLE = "Not Acceptable: this index serves " + ", ".join(OFFERS)
# Each page comes in several representations, chosen by Accept.
VARY = {"Vary": "Accept"}
PREFIX = "/simple/"


# Accept headers (and ?format= values) up to this long are remembered: pip's and uv's are a
# few dozen characters. A longer one, which a client may make as long as a header can be, is
# worked out each time, so the memo never holds more than its entries times this.
MAX_REMEMBERED_ACCEPT = 256


def negotiate(accept: str | None, requested_format: str | None = None) -> str | None:
    """The media type to answer with, or None when the client accepts none of ours."""
    if (accept is not None and len(accept) > MAX_REMEMBERED_ACCEPT) or (
        requested_format is not None and len(requested_format) > MAX_REMEMBERED_ACCEPT
    ):
        return _negotiate(accept, requested_format)
    return remembered_negotiate(accept, requested_format)


def _negotiate(accept: str | None, requested_format: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts none of ours.

    ``?format=`` (PEP 691's alternative to ``Accept``) names one type exactly. Otherwise
    each offer takes the q-value of the most specific ``Accept`` range that matches it;
    the highest q wins, then the more specific match, then the range listed first.
    """
    if requested_format is not None:
        # A "+" typed into a query string arrives as a space; media types have none.
        requested_format = requested_format.strip().replace(" ", "+").lower()
        named = ALIASES.get(requested_format, requested_format)
        return named if named in OFFERS else None
    if not accept:
        return TEXT_HTML
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for rank, offer in enumerate(OFFERS):
        match = _best_range(accept, offer)
        if match is None or match[0] <= 0:
            continue
        q, specificity, position = match
        score = (q, specificity, -position, -rank)
        if best is None or score > best:
            best, chosen = score, offer
    return chosen


remembered_negotiate = lru_cache(maxsize=256)(_negotiate)


def _best_range(accept: str, offer: str) -> tuple[float, int, int] | None:
    """(q, specificity, position) of the most specific range of ``accept`` covering ``offer``."""
    offer_type = offer.split("/", 1)[0]
    found: tuple[float, int, int] | None = None
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        media = ALIASES.get(media.lower(), media.lower())
        if media == offer:
            specificity = 2
        elif media == f"{offer_type}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if found is None or specificity > found[1]:
            found = (_quality(params), specificity, position)
    return found


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


# --- the two pages ----------------------------------------------------------------------------


def _representations(
    body_html: bytes, body_json: bytes, serial: int
) -> dict[Hashable, RenderedPage]:
    return {
        TEXT_HTML: RenderedPage(body_html, TEXT_HTML, serial),
        SIMPLE_HTML: RenderedPage(body_html, SIMPLE_HTML, serial),
        SIMPLE_JSON: RenderedPage(body_json, SIMPLE_JSON, serial),
    }


def _chosen_type(request: Request) -> str | None:
    return negotiate(request.headers.get("accept"), request.query_params.get("format"))


def _not_acceptable() -> Response:
    return PlainTextResponse(NOT_ACCEPTABLE, status_code=406, headers={"Vary": "Accept"})


async def index_page(request: Request) -> Response:
    """Every project: streamed from the worker's chunks of the list (project_list.py)."""
    media_type = _chosen_type(request)
    if media_type is None:
        return _not_acceptable()
    await refresh_if_due(request)
    reader = await reader_of(request)
    readable = await readable_ids(request, reader) if reader is not None else frozenset()
    if readable:
        shown_private(request)
    listing = await run_in_threadpool(_listing, request, readable)
    as_json = media_type == SIMPLE_JSON
    etag = listing.etag(media_type, as_json)
    headers = {
        "ETag": etag,
        "X-PyPI-Last-Serial": str(listing.serial),
        "Cache-Control": REVALIDATE_PRIVATE if listing.private else REVALIDATE,
        **VARY,
    }
    unchanged = not_modified(request.headers.get("if-none-match"), headers)
    if unchanged is not None:
        return unchanged
    parts = listing.parts(as_json)
    headers["Content-Length"] = str(sum(len(part) for part in parts))
    return StreamingResponse(_stream(parts), media_type=media_type, headers=headers)


def _listing(request: Request, readable: frozenset[str]) -> ListingPage:
    pages: PageCache = request.app.state.pages
    with transaction(request) as db:
        # The shared chunks hold public projects only; a reader's own private ones are
        # added for this request alone.
        return pages.listing.page(db).with_private(db, readable)


async def _stream(parts: list[bytes]) -> AsyncIterator[bytes]:
    # The chunks are already in memory: no thread is needed to hand them over.
    for part in parts:
        yield part


async def project_page(request: Request) -> Response:
    name: str = request.path_params["project"]
    if not is_valid_project_name(name):
        return not_found()
    project_id = normalize_name(name)
    if name != project_id:
        return moved_to(request, f"/simple/{project_id}/")
    media_type = _chosen_type(request)
    if media_type is None:
        return _not_acceptable()

    def render(db: Session) -> dict[Hashable, RenderedPage] | None:
        detail = project_detail(db, project_id)
        if detail is None:
            return None
        return _representations(detail_html(detail), detail_json(detail), detail.last_serial)

    page = await cached_page(request, project_id, media_type, render)
    if page is Absent.NOT_SHOWN:
        return not_found()
    if page is Absent.NO_PROJECT:
        # No local project: perhaps an upstream's, rendered by the same code.
        return await upstream_pages.project_page(
            request,
            project_id,
            media_type,
            lambda detail: _representations(detail_html(detail), detail_json(detail), 0),
            VARY,
        )
    return page_response(request, page, VARY)


async def add_slash(request: Request) -> Response:
    """``/simple/Foo`` -> ``/simple/foo/`` (and ``/simple`` -> ``/simple/``)."""
    name = request.path_params.get("project")
    if name is None:
        return moved_to(request, "/simple/")
    if not is_valid_project_name(name):
        return not_found()
    return moved_to(request, f"/simple/{normalize_name(name)}/")


routes: list[BaseRoute] = [
    Route("/simple/", index_page, methods=["GET"]),
    Route("/simple", add_slash, methods=["GET"]),
    Route("/simple/{project}/", project_page, methods=["GET"]),
    Route("/simple/{project}", add_slash, methods=["GET"]),
]
