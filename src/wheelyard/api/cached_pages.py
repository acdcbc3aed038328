"""Pages served from the worker's page cache: the Simple API's and the JSON API's.

A page is rendered once, with its sibling variants, and stored until the journal says its
project changed (services/index/page_cache.py). The cache reads the journal at most about once
a second, before a request looks a page up, so nothing is served past its time.

The fast path serves the cache without asking who is reading (api/fast_path.py), so it must
find public pages only: a private project's pages are stored under ``private_variant``s,
which it never asks for. This handler asks for them once the reader's role on the project
is known (remembered for a second per reader, as credentials are); everyone else gets the
same 404 as for a project that does not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace

from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wheelyard.data.package import Visibility
from wheelyard.http.conditional import not_modified
from wheelyard.http.project_reader import readable_ids, reader_of, shown_private
from wheelyard.http.transaction import transaction
from wheelyard.services.access import visibility
from wheelyard.services.index.page_cache import PageCache, RenderedPage, private_variant

# Clients must revalidate (cheaply, by ETag) so that a new upload is seen at once.
REVALIDATE = "max-age=0, must-revalidate"
# A page only some may see: no shared cache in between keeps it.
REVALIDATE_PRIVATE = "private, max-age=0, must-revalidate"

# Renders every variant of one key's page from the database, or None when there is no page.
Renderer = Callable[[Session], Mapping[Hashable, RenderedPage] | None]


async def refresh_if_due(request: Request) -> None:
    """Read the journal when this worker has not looked for a while (about once a second)."""
    pages: PageCache = request.app.state.pages
    if pages.check_due():
        await run_in_threadpool(_refresh, request, pages)


def _refresh(request: Request, pages: PageCache) -> None:
    with transaction(request) as db:
        pages.refresh(db)


def may_answer_from_cache(app: Starlette) -> bool:
    """Whether a cached answer may go out now (see PageCache.must_read_journal_first). When
    the periodic journal check is due, one request takes the ordinary path, whose handler
    reads the journal, and the others go on being answered from the cache meanwhile.

    The check runs in that request, not in a task of its own: work that outlives its
    request would share a connection with the next one where sessions share one (tests).
    """
    pages: PageCache = app.state.pages
    if pages.must_read_journal_first():
        return False
    return not pages.claim_poll()


class Absent(enum.Enum):
    """Why there is no page: the difference decides whether an upstream may answer instead."""

    # No local project has the name.
    NO_PROJECT = "no project"
    # A private project this reader holds no role on: 404 to them, and never an upstream's
    # page in its place (that would install a stranger's package under a local name).
    NOT_SHOWN = "not shown"


async def cached_page(
    request: Request, key: str, variant: Hashable, render: Renderer
) -> RenderedPage | Absent:
    """The page of project ``key`` from the cache, or rendered (with its sibling variants)
    and stored; Absent when there is no page for this reader. A private project's page is
    looked up only once the reader is known to hold a role on it."""
    await refresh_if_due(request)
    pages: PageCache = request.app.state.pages
    page = pages.lookup(key, variant)
    if page is not None:
        return page
    reader = await reader_of(request)
    if reader is not None and key in await readable_ids(request, reader):
        page = pages.lookup(key, private_variant(variant))
        if page is not None:
            shown_private(request)
            return page
    found = await run_in_threadpool(_render_public, request, pages, key, render)
    if found is None:
        return Absent.NO_PROJECT
    rendered, public = found
    if public:
        return rendered[variant]
    if reader is None:
        return Absent.NOT_SHOWN
    rendered_private = await run_in_threadpool(_render_private, request, pages, key, reader, render)
    if rendered_private is None:
        return Absent.NOT_SHOWN
    shown_private(request)
    return rendered_private[private_variant(variant)]


def _render_public(
    request: Request, pages: PageCache, key: str, render: Renderer
) -> tuple[Mapping[Hashable, RenderedPage], bool] | None:
    """The rendered page and whether it is public (then stored); None when there is none."""
    # The ticket comes first: a page rendered while a change landed is not stored.
    ticket = pages.ticket()
    with transaction(request) as db:
        found = visibility.visibility_of(db, key)
        if found != Visibility.PUBLIC:
            # A private project is rendered only once the reader is known to hold a role.
            return None if found is None else ({}, False)
        rendered = render(db)
    if rendered is None:
        return None
    pages.store(ticket, key, rendered)
    return rendered, True


def _render_private(
    request: Request, pages: PageCache, key: str, reader: visibility.Reader, render: Renderer
) -> Mapping[Hashable, RenderedPage] | None:
    ticket = pages.ticket()
    with transaction(request) as db:
        if visibility.visibility_of(db, key) != Visibility.PRIVATE:
            return None  # made public meanwhile: the next request renders it as such
        if not visibility.may_read_private(db, reader, key):
            return None
        rendered = render(db)
    if rendered is None:
        return None
    private = {
        private_variant(variant): replace(page, private=True) for variant, page in rendered.items()
    }
    pages.store(ticket, key, private)
    return private


def page_response(request: Request, page: RenderedPage, headers: Mapping[str, str]) -> Response:
    """200 with the body, or 304 when the client already has this representation."""
    return cached_response(page, request.headers.get("if-none-match"), headers)


def cached_response(
    page: RenderedPage, if_none_match: str | None, headers: Mapping[str, str]
) -> Response:
    """The answer for ``page``, with ``headers`` beside its own; api/fast_path.py builds the
    headers it keeps on each page with this too, so both paths answer alike."""
    all_headers = {
        "ETag": page.etag,
        "X-PyPI-Last-Serial": str(page.serial),
        "Cache-Control": REVALIDATE_PRIVATE if page.private else REVALIDATE,
        **headers,
        **dict(page.headers),
    }
    unchanged = not_modified(if_none_match, all_headers)
    if unchanged is not None:
        return unchanged
    return Response(page.body, media_type=page.media_type, headers=all_headers)
