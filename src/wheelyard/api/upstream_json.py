"""``/pypi/<name>/json`` of a project we have no local project for: the upstream's document.

Asked of the upstream that gave the project's simple page, cached in the database and
revalidated like it (services/upstream/json_documents.py). File URLs are relative to the
site root, or under ``WHEELYARD_PUBLIC_URL`` when set, so the answer never depends on the
Host a client sent.
"""

from __future__ import annotations

import httpx2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wheelyard.api.cached_pages import page_response
from wheelyard.api.upstream_pages import (
    HELD_HEADER,
    STATUS_HEADER,
    UpstreamFailure,
    current_page,
    policy_of,
    refused,
)
from wheelyard.config import Settings
from wheelyard.data import db_session
from wheelyard.http.responses import not_found
from wheelyard.http.transaction import transaction
from wheelyard.services import clock
from wheelyard.services.index.page_cache import RenderedPage
from wheelyard.services.upstream import json_documents
from wheelyard.services.upstream.json_documents import CachedDocument, Unreachable
from wheelyard.services.upstream.sources import upstreams

JSON = "application/json"
# From /pypi/<name>/json, "../../" is the site root.
RELATIVE_ROOT = "../../"


def _root(settings: Settings) -> str:
    return settings.public_url + "/" if settings.public_url else RELATIVE_ROOT


def _cached(request: Request, project_id: str) -> CachedDocument | None:
    with transaction(request) as db:
        return json_documents.cached(db, project_id)


def _current(
    request: Request, project_id: str, source: str, known: CachedDocument | None
) -> CachedDocument | None:
    """The document after asking the upstream; raises UpstreamFailure when it cannot be
    asked and nothing is cached (a cached copy is then served stale)."""
    settings: Settings = request.app.state.settings
    http: httpx2.Client = request.app.state.upstream_http
    upstream = next((u for u in upstreams(settings.upstream_urls) if u.url == source), None)
    if upstream is None:
        return None
    outcome = json_documents.fetch(http, upstream, project_id, known)
    if isinstance(outcome, Unreachable):
        if known is None:
            raise UpstreamFailure(outcome.reason, outcome.timed_out)
        request.state.upstream_stale = outcome.reason
        return known
    with db_session.transaction(request.app.state.sessions, writes=True) as db:
        return json_documents.settle(db, project_id, source, outcome, known, clock.now())


async def project_document(request: Request, project_id: str, headers: dict[str, str]) -> Response:
    settings: Settings = request.app.state.settings
    refusal = refused(settings, project_id)
    if refusal is not None:
        return refusal
    try:
        page = await current_page(request, project_id)
        if page is None:
            return not_found()
        document = await run_in_threadpool(_cached, request, project_id)
        fresh = document is not None and document.source == page.source
        if not (
            fresh and document is not None and document.is_fresh(settings.upstream_ttl, clock.now())
        ):
            known = document if fresh else None
            document = await run_in_threadpool(_current, request, project_id, page.source, known)
    except UpstreamFailure as failure:
        return failure.response()
    if document is None:
        return PlainTextResponse(
            f"Not Found: the upstream {page.source} has no JSON API document of {project_id!r}",
            status_code=404,
        )
    body, held = json_documents.render(document, _root(settings), policy_of(settings), clock.now())
    stale = getattr(request.state, "upstream_stale", None)
    answer = {**headers, STATUS_HEADER: "stale" if stale else "fresh"}
    if held:
        answer[HELD_HEADER] = str(held)
    return page_response(request, RenderedPage(body, JSON, 0), answer)
