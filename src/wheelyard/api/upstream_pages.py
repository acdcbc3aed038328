"""Simple pages of projects we have no local project for, answered from the upstreams.

The cached copy (services/upstream/pages.py) is served while it is younger than the TTL,
then revalidated. When the upstream is down or slower than the timeout, the cached copy is
served with ``X-Wheelyard-Upstream: stale`` and a ``Warning`` that says why; a page never
cached then fails with 502 (504 for a timeout) and the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping

import httpx2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wheelyard.api.cached_pages import page_response
from wheelyard.config import Settings
from wheelyard.data import db_session
from wheelyard.http.responses import not_found
from wheelyard.http.transaction import transaction
from wheelyard.services import clock
from wheelyard.services.index.page_cache import PageCache, RenderedPage, Ticket
from wheelyard.services.index.project_page import ProjectDetail
from wheelyard.services.upstream import pages
from wheelyard.services.upstream.fetch import Unreachable, fetch_project
from wheelyard.services.upstream.pages import CachedPage
from wheelyard.services.upstream.policy import Policy
from wheelyard.services.upstream.sources import is_blocked, upstreams

STATUS_HEADER = "X-Wheelyard-Upstream"
# How many of the upstream's files our page leaves out (services/upstream/policy.py); a
# download of one answers 404 with the reason.
HELD_HEADER = "X-Wheelyard-Upstream-Held"
MAX_RENDERED = 1024

Renderer = Callable[[ProjectDetail], Mapping[Hashable, RenderedPage]]


class UpstreamFailure(Exception):
    def __init__(self, reason: str, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out

    def response(self) -> Response:
        status = 504 if self.timed_out else 502
        return PlainTextResponse(
            f"Upstream unavailable: {self.reason}",
            status_code=status,
            headers={STATUS_HEADER: "unavailable"},
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Shown:
    """A rendered upstream page and the headers that say what it holds back."""

    representations: Mapping[Hashable, RenderedPage]
    headers: Mapping[str, str]


class RenderedPages:
    """Fresh upstream pages already rendered, per worker, until their TTL runs out: a warm
    page costs no query. Bounded; the oldest go first."""

    def __init__(self, ttl_seconds: int, size: int = MAX_RENDERED) -> None:
        self.ttl = ttl_seconds
        self.size = size
        self._pages: OrderedDict[str, tuple[float, Shown]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, project_id: str) -> tuple[Shown, float] | None:
        """The page and the seconds it stays fresh, or None."""
        with self._lock:
            entry = self._pages.get(project_id)
            if entry is None:
                return None
            left = entry[0] - time.monotonic()
            if left <= 0:
                del self._pages[project_id]
                return None
            return entry[1], left

    def keep(
        self,
        project_id: str,
        page: CachedPage,
        shown: Shown,
        until: dt.datetime | None = None,
    ) -> float | None:
        """Keep the page; the seconds it stays fresh (None: not at all, so not kept)."""
        # Fresh for what is left of the TTL, counted from the upstream's last confirmation,
        # and no longer than until a held-back file comes out of its cooldown.
        now = clock.now()
        left = self.ttl - page.age(now).total_seconds()
        if until is not None:
            left = min(left, (until - now).total_seconds())
        if left <= 0:
            return None
        with self._lock:
            self._pages[project_id] = (time.monotonic() + left, shown)
            self._pages.move_to_end(project_id)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return left


def _share(
    request: Request, ticket: Ticket, project_id: str, shown: Shown, fresh_for: float
) -> None:
    """Put a fresh upstream page into the worker's page cache as well, under the project's
    name, for as long as it stays fresh: the fast path then answers it as it answers a local
    page, with no query and no thread. A local project made under that name meanwhile
    changes the cache's generation (the ticket then stores nothing) or, later, drops the
    entry through the journal, as for any change to a project."""
    headers = tuple({STATUS_HEADER: "fresh", **shown.headers}.items())
    representations = {
        variant: dataclasses.replace(page, headers=headers, fresh_for=fresh_for)
        for variant, page in shown.representations.items()
    }
    cache: PageCache = request.app.state.pages
    cache.store(ticket, project_id, representations)


def _rendered(request: Request) -> RenderedPages:
    state = request.app.state
    if not hasattr(state, "upstream_rendered"):
        state.upstream_rendered = RenderedPages(state.settings.upstream_ttl)
    kept: RenderedPages = state.upstream_rendered
    return kept


def serves_upstream(settings: Settings, project_id: str) -> bool:
    return bool(settings.upstream_urls) and not is_blocked(project_id, settings.upstream_block)


def policy_of(settings: Settings) -> Policy:
    return Policy(settings.upstream_allow, settings.upstream_deny, settings.upstream_min_age)


def refused(settings: Settings, project_id: str) -> Response | None:
    """The 404 for a name never asked upstream (blocked, denied, not allowed), or None.
    A blocked name is ours and gets the plain 404; a refused one says why."""
    if not serves_upstream(settings, project_id):
        return not_found()
    reason = policy_of(settings).refusal(project_id)
    if reason is None:
        return None
    return PlainTextResponse(
        f"Not Found: {reason}", status_code=404, headers={STATUS_HEADER: "refused"}
    )


def held_headers(held: Mapping[str, str]) -> dict[str, str]:
    return {HELD_HEADER: str(len(held))} if held else {}


def _cached(request: Request, project_id: str) -> CachedPage | None:
    with transaction(request) as db:
        return pages.cached(db, project_id)


def _refresh(request: Request, project_id: str, page: CachedPage | None) -> CachedPage | None:
    """The page after asking the upstreams (None: they do not have it); raises
    UpstreamFailure when they cannot be asked and nothing is cached."""
    settings: Settings = request.app.state.settings
    http: httpx2.Client = request.app.state.upstream_http
    known = page.known if page is not None else None
    outcome = fetch_project(http, upstreams(settings.upstream_urls), project_id, known)
    now = clock.now()
    if isinstance(outcome, Unreachable):
        if page is None:
            raise UpstreamFailure(outcome.reason, outcome.timed_out)
        request.state.upstream_stale = outcome.reason
        return page
    # A GET that writes: the request's own transaction would not take the write lock.
    with db_session.transaction(request.app.state.sessions, writes=True) as db:
        return pages.settle(db, project_id, outcome, page, now)


async def current_page(request: Request, project_id: str) -> CachedPage | None:
    """The upstream's page of the project, cached or fetched; raises UpstreamFailure."""
    settings: Settings = request.app.state.settings
    page = await run_in_threadpool(_cached, request, project_id)
    if page is not None and page.is_fresh(settings.upstream_ttl, clock.now()):
        return page
    return await run_in_threadpool(_refresh, request, project_id, page)


def status_headers(request: Request) -> dict[str, str]:
    reason = getattr(request.state, "upstream_stale", None)
    if reason is None:
        return {STATUS_HEADER: "fresh"}
    # RFC 7234's warn-code 111, "Revalidation Failed", says what the header is for.
    quoted = reason.replace("\\", "\\\\").replace('"', '\\"')
    return {STATUS_HEADER: "stale", "Warning": f'111 wheelyard "{quoted}"'}


async def project_page(
    request: Request,
    project_id: str,
    variant: Hashable,
    render: Renderer,
    headers: Mapping[str, str],
) -> Response:
    """``/simple/<project_id>/`` from the upstreams, rendered as a local project's page."""
    settings: Settings = request.app.state.settings
    refusal = refused(settings, project_id)
    if refusal is not None:
        return refusal
    # Taken before anything is read: a local project made meanwhile keeps this page out of
    # the page cache.
    ticket = request.app.state.pages.ticket()
    found = _rendered(request).lookup(project_id)
    if found is not None:
        kept, left = found
        _share(request, ticket, project_id, kept, left)
        fresh = {**headers, STATUS_HEADER: "fresh", **kept.headers}
        return page_response(request, kept.representations[variant], fresh)
    try:
        page = await current_page(request, project_id)
    except UpstreamFailure as failure:
        return failure.response()
    if page is None:
        return not_found()
    screened = policy_of(settings).screen(page.listing, clock.now())
    shown = Shown(
        render(pages.detail(dataclasses.replace(page, listing=screened.listing))),
        held_headers(screened.held),
    )
    if getattr(request.state, "upstream_stale", None) is None:
        fresh_for = _rendered(request).keep(project_id, page, shown, screened.next_release)
        if fresh_for is not None:
            _share(request, ticket, project_id, shown, fresh_for)
    answer = {**headers, **status_headers(request), **shown.headers}
    return page_response(request, shown.representations[variant], answer)
