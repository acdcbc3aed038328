"""Downloads of upstream files: ``/packages/upstream/<project>/<filename>`` (and ``.metadata``).

The first download fetches the file from the upstream that gave the page, checks it and
keeps it (services/upstream/files.py); every later one, on any worker or node, is served
from our storage, also with the upstream down. Concurrent first requests of one file in a
worker share one fetch; workers and nodes that race each fetch once and keep one row.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import BinaryIO

import httpx2
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse

from wheelyard.api.upstream_pages import (
    STATUS_HEADER,
    UpstreamFailure,
    current_page,
    policy_of,
    refused,
)
from wheelyard.config import Settings
from wheelyard.data import db_session
from wheelyard.http.conditional import not_modified
from wheelyard.http.responses import not_found
from wheelyard.http.transaction import transaction
from wheelyard.services import clock
from wheelyard.services.access import visibility
from wheelyard.services.naming import is_valid_project_name, normalize_name
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.upstream import fetch_lock, files, pages
from wheelyard.services.upstream.files import FetchFailed, StoredFile, Wanted
from wheelyard.services.upstream.policy import Policy
from wheelyard.services.upstream.recent_use import RecentUse
from wheelyard.services.upstream.sources import upstreams
from wheelyard.storage.base import FileStorage, StorageError

log = logging.getLogger(__name__)

PREFIX = "upstream/"
IMMUTABLE = "max-age=31536000, immutable"
METADATA_TYPE = "text/plain; charset=utf-8"
CHUNK_SIZE = 64 * 1024


def _stored(request: Request, filename: str) -> StoredFile | None:
    with transaction(request) as db:
        return files.stored(db, filename)


def _fetch(request: Request, project_id: str, want: Wanted, source: str) -> StoredFile:
    settings: Settings = request.app.state.settings
    http: httpx2.Client = request.app.state.upstream_http
    storage: FileStorage = request.app.state.storage
    upstream = next((u for u in upstreams(settings.upstream_urls) if u.url == source), None)
    with fetch_lock.fetching(settings.var_dir, want.filename):
        # Another worker of this node may have fetched it while this one waited.
        with db_session.transaction(request.app.state.sessions, writes=False) as db:
            already = files.stored(db, want.filename)
        if already is not None:
            return already
        fetched = files.fetch(http, storage, want, upstream)
        with db_session.transaction(request.app.state.sessions, writes=True) as db:
            files.record(db, project_id, fetched, clock.now())
    return fetched


class HeldBack(Exception):
    """The file is held back by the policy (services/upstream/policy.py)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def response(self) -> Response:
        return PlainTextResponse(
            f"Not Found: {self.reason}", status_code=404, headers={STATUS_HEADER: "held"}
        )


# Fetches kept per worker after they succeed, so a request that looked for the stored row
# just before a fetch committed it still finds the file without a second fetch; bounded,
# and each kept only briefly: `wheelyard cache prune` may remove the file meanwhile.
MAX_FETCHES_KEPT = 1024
FETCH_KEPT_SECONDS = 30.0


def _fetches(request: Request) -> OrderedDict[str, asyncio.Future[StoredFile]]:
    state = request.app.state
    if not hasattr(state, "upstream_fetches"):
        state.upstream_fetches = OrderedDict()
    fetches: OrderedDict[str, asyncio.Future[StoredFile]] = state.upstream_fetches
    return fetches


def _start(
    fetches: OrderedDict[str, asyncio.Future[StoredFile]],
    filename: str,
    fetch: Callable[[], StoredFile],
) -> asyncio.Future[StoredFile]:
    running = asyncio.ensure_future(run_in_threadpool(fetch))
    fetches[filename] = running

    def drop(done: asyncio.Future[StoredFile]) -> None:
        if fetches.get(filename) is done:
            del fetches[filename]

    def settled(done: asyncio.Future[StoredFile]) -> None:
        # A failed fetch is forgotten, so the next request tries again.
        failed = done.cancelled() or done.exception() is not None
        if failed:
            drop(done)
        else:
            asyncio.get_running_loop().call_later(FETCH_KEPT_SECONDS, drop, done)
        while len(fetches) > MAX_FETCHES_KEPT:
            oldest = next(iter(fetches))
            if not fetches[oldest].done():
                break
            del fetches[oldest]

    running.add_done_callback(settled)
    return running


async def _fetch_once(
    request: Request, project_id: str, filename: str, policy: Policy
) -> StoredFile | None:
    """The file fetched and kept, sharing a fetch already running; None when the upstream
    page lists no such file. Raises FetchFailed, UpstreamFailure or HeldBack."""
    fetches = _fetches(request)
    running = fetches.get(filename)
    if running is None:
        page = await run_in_threadpool(_cached_page, request, project_id)
        if page is None:
            page = await current_page(request, project_id)
        want = files.wanted(page, filename) if page is not None else None
        if page is None or want is None:
            return None
        reason = policy.held_file(page.listing, filename, clock.now())
        if reason is not None:
            raise HeldBack(reason)
        # Checked again: another request may have started the fetch while this one waited.
        running = fetches.get(filename)
        if running is None:
            running = _start(
                fetches, filename, partial(_fetch, request, project_id, want, page.source)
            )
    # Shielded: a client that hangs up does not cancel the fetch the others wait on.
    return await asyncio.shield(running)


def _is_local(request: Request, project_id: str) -> bool:
    with transaction(request) as db:
        return visibility.visibility_of(db, project_id) is not None


def _cached_page(request: Request, project_id: str) -> pages.CachedPage | None:
    with transaction(request) as db:
        return pages.cached(db, project_id)


def _failed(failure: FetchFailed) -> Response:
    return PlainTextResponse(
        f"Upstream file unavailable: {failure.reason}",
        status_code=504 if failure.timed_out else 502,
    )


async def serve(request: Request, path: str, media_type: Callable[[str], str]) -> Response:
    """``path`` is what follows ``/packages/``: ``upstream/<project>/<filename>``."""
    parts = path.removeprefix(PREFIX).split("/")
    if len(parts) != 2 or not all(parts):
        return not_found()
    project_id, filename = parts
    # The name goes into the upstream's URL: only a normalized name, never "..".
    if not is_valid_project_name(project_id) or normalize_name(project_id) != project_id:
        return not_found()
    settings: Settings = request.app.state.settings
    refusal = refused(settings, project_id)
    if refusal is not None:
        return refusal
    policy = policy_of(settings)
    recent = recent_use(request)
    found = await run_in_threadpool(_stored, request, filename)
    try:
        if found is not None and policy.min_age_seconds and not recent.cleared(filename):
            # Kept before the cooldown was set (or lengthened): held back like the others.
            page = await run_in_threadpool(_cached_page, request, project_id)
            reason = policy.held_file(page.listing if page else None, filename, clock.now())
            if reason is not None:
                raise HeldBack(reason)
        if found is None:
            # A local project's name (public or private) never has an upstream file fetched.
            if await run_in_threadpool(_is_local, request, project_id):
                return not_found()
            found = await _fetch_once(request, project_id, filename, policy)
    except HeldBack as held:
        return held.response()
    except FetchFailed as failure:
        return _failed(failure)
    except UpstreamFailure as failure:
        return failure.response()
    if found is None:
        return not_found()
    kind = METADATA_TYPE if filename.endswith(METADATA_SUFFIX) else media_type(filename)
    return await _send(request, found, kind, _use_writer(request, recent, filename))


def recent_use(request: Request) -> RecentUse:
    state = request.app.state
    if not hasattr(state, "upstream_recent_use"):
        state.upstream_recent_use = RecentUse()
    recent: RecentUse = state.upstream_recent_use
    return recent


def _use_writer(request: Request, recent: RecentUse, filename: str) -> BackgroundTask | None:
    """The write of the file's use, after the response has gone, when one is due."""
    if not recent.due(filename):
        return None
    return BackgroundTask(_write_use, request, recent, filename)


def _write_use(request: Request, recent: RecentUse, filename: str) -> None:
    try:
        with db_session.transaction(request.app.state.sessions, writes=True) as db:
            files.mark_used(db, filename, clock.now())
    except Exception:
        # The download has been served; a missed use only makes eviction a little early.
        recent.forget(filename)
        log.exception("could not record the use of the upstream file %s", filename)


async def _send(
    request: Request, found: StoredFile, kind: str, background: BackgroundTask | None
) -> Response:
    headers = {"ETag": f'"{found.sha256}"', "Cache-Control": IMMUTABLE}
    unchanged = not_modified(request.headers.get("if-none-match"), headers)
    if unchanged is not None:
        unchanged.background = background
        return unchanged
    storage: FileStorage = request.app.state.storage
    local = storage.local_path(found.storage_path)
    if local is not None and local.exists():
        return FileResponse(local, headers=headers, media_type=kind, background=background)
    try:
        blob = await run_in_threadpool(storage.open, found.storage_path)
    except StorageError:
        return not_found()
    headers["Content-Length"] = str(found.size)
    return StreamingResponse(_chunks(blob), headers=headers, media_type=kind, background=background)


async def _chunks(blob: BinaryIO) -> AsyncIterator[bytes]:
    try:
        async for chunk in iterate_in_threadpool(iter(partial(blob.read, CHUNK_SIZE), b"")):
            yield chunk
    finally:
        blob.close()
