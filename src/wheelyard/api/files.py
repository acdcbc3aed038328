"""File downloads: ``/packages/<storage path>`` and the PEP 658 ``.metadata`` beside each.

The URL is ``/packages/`` followed by the file's storage path (PyPI's layout,
``ab/cd/<rest of the BLAKE2b-256>/<filename>``), as
``services.projects.release_files.file_url`` links it.
Files never change under a URL, so they are cached for a year. A full GET of a file is
recorded as a download, off the request path; HEAD, 304s, ranges and metadata are not.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from wheelyard.api import upstream_files
from wheelyard.api.cached_pages import may_answer_from_cache, refresh_if_due
from wheelyard.config import Settings
from wheelyard.data.release_file import ReleaseFile
from wheelyard.http.conditional import not_modified
from wheelyard.http.project_reader import visible_as
from wheelyard.http.responses import not_found
from wheelyard.http.transaction import transaction
from wheelyard.services.analytics.recorder import DownloadEvent, DownloadRecorder
from wheelyard.services.index import project_page, served_files
from wheelyard.services.index.page_cache import PageCache
from wheelyard.services.index.served_files import ServedFile
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.storage.base import BlobMissing, FileStorage, StorageError, presigned_url

log = logging.getLogger(__name__)

IMMUTABLE = "max-age=31536000, immutable"
METADATA_TYPE = "text/plain; charset=utf-8"
# What each kind of distribution is. A gzipped tarball is application/gzip, never
# application/x-tar with Content-Encoding: gzip, which clients would unpack in transit.
MEDIA_TYPES = (
    (".whl", "application/zip"),
    (".zip", "application/zip"),
    (".egg", "application/zip"),
    (".tar.gz", "application/gzip"),
    (".tgz", "application/gzip"),
    (".tar.bz2", "application/x-bzip2"),
    (".tar.xz", "application/x-xz"),
    (".tar", "application/x-tar"),
)
CHUNK_SIZE = 64 * 1024
STORAGE_UNAVAILABLE = "The file store cannot be read just now; try again shortly.\n"
RETRY_AFTER = "10"
PREFIX = "/packages/"


def media_type(filename: str) -> str:
    for suffix, kind in MEDIA_TYPES:
        if filename.endswith(suffix):
            return kind
    return "application/octet-stream"


def _find(request: Request, filename: str) -> ReleaseFile | None:
    with transaction(request) as db:
        return served_files.find_release_file(db, filename)


def _find_served(request: Request, pages: PageCache, filename: str) -> ServedFile | None:
    ticket = pages.files.ticket()
    with transaction(request) as db:
        served = served_files.find_served(db, filename)
    if served is not None:
        pages.files.store(ticket, served)
    return served


async def serve(request: Request) -> Response:
    path: str = request.path_params["path"]
    if path.startswith(upstream_files.PREFIX):
        return await upstream_files.serve(request, path, media_type)
    if path.endswith(METADATA_SUFFIX):
        dist_path = path.removesuffix(METADATA_SUFFIX)
        release_file = await run_in_threadpool(_find, request, dist_path.rsplit("/", 1)[-1])
        # Only the exact path we link to serves a file: no other spelling, nothing unlisted.
        if release_file is None or release_file.storage_path != dist_path:
            return not_found()
        if await visible_as(request, release_file.release.package_id) is None:
            return not_found()
        return await _serve_metadata(request, release_file)
    await refresh_if_due(request)
    pages: PageCache = request.app.state.pages
    filename = path.rsplit("/", 1)[-1]
    served = pages.files.lookup(filename)
    if served is None:
        served = await run_in_threadpool(_find_served, request, pages, filename)
    if served is None or served.storage_path != path:
        return not_found()
    # Private files are never kept by the worker (nor served by cached_download): each
    # download of one asks whether its reader holds a role.
    if not served.public and await visible_as(request, served.package_id) is None:
        return not_found()
    return await _serve_file(request, served, _local_path(request, served))


async def cached_download(scope: Scope) -> Response | None:
    """A download of a file already known to this worker and held in local storage, answered
    without a query or a thread (see api/fast_path.py); None to take the ordinary path.
    """
    pages: PageCache = scope["app"].state.pages
    path: str = scope["path"].removeprefix(PREFIX)
    if path.endswith(METADATA_SUFFIX) or not may_answer_from_cache(scope["app"]):
        return None
    served = pages.files.lookup(path.rsplit("/", 1)[-1])
    if served is None or not served.public or served.storage_path != path:
        return None
    request = Request(scope)
    local = _local_path(request, served)
    if local is None:
        return None  # the bytes are in an object store: opening them takes a thread
    # With a local path _serve_file awaits nothing: no thread, no hop off the event loop.
    return await _serve_file(request, served, local)


def _local_path(request: Request, served: ServedFile) -> Path | None:
    """Where the file lies on this machine's disk; None when the storage is not local."""
    assert served.storage_path is not None
    storage: FileStorage = request.app.state.storage
    return storage.local_path(served.storage_path)


def _immutable(digest: str) -> dict[str, str]:
    """The headers of a file or of its metadata: each is named by its digest, never changes."""
    return {"ETag": f'"{digest}"', "Cache-Control": IMMUTABLE}


async def _serve_file(request: Request, served: ServedFile, local: Path | None) -> Response:
    """The one answer for a file: its headers built once and checked once (a 304), then the
    body (the local file, or the object store's), a 404 when the storage has no such blob."""
    headers = _immutable(served.sha256_digest)
    unchanged = not_modified(request.headers.get("if-none-match"), headers)
    if unchanged is not None:
        return unchanged
    if local is not None:
        response = _local_file(served, local, headers)
    else:
        response = await _from_storage(request, served, headers)
    if response is None:
        return _missing_blob(served)
    if response.status_code < 500:  # a failing store served nothing
        _record_if_counted(request, served)
    return response


def _local_file(served: ServedFile, local: Path, headers: dict[str, str]) -> Response | None:
    """The file from this machine's disk; None when it is not there."""
    try:
        # On the event loop: a stat of a local file takes microseconds, a thread hop longer.
        stat = os.stat(local)
    except FileNotFoundError:
        return None
    return FileResponse(
        local, headers=headers, media_type=media_type(served.filename), stat_result=stat
    )


async def _from_storage(
    request: Request, served: ServedFile, headers: dict[str, str]
) -> Response | None:
    """A redirect to the object store's presigned URL, or the bytes streamed from the
    storage; None when it has no such blob."""
    assert served.storage_path is not None
    storage: FileStorage = request.app.state.storage
    if (redirect := _presigned(request, storage, served.storage_path)) is not None:
        # The object store serves the bytes; the download still counts here.
        return RedirectResponse(redirect, status_code=302)
    try:
        blob = await run_in_threadpool(storage.open, served.storage_path)
    except BlobMissing:
        return None
    except StorageError as error:
        # The store is away or failing, not the file: worth trying again soon.
        log.warning("reading %s failed: %s", served.storage_path, error)
        return PlainTextResponse(
            STORAGE_UNAVAILABLE, status_code=503, headers={"Retry-After": RETRY_AFTER}
        )
    headers["Content-Length"] = str(served.size)
    return StreamingResponse(_chunks(blob), headers=headers, media_type=media_type(served.filename))


def _record_if_counted(request: Request, served: ServedFile) -> None:
    settings: Settings = request.app.state.settings
    if request.method == "GET" and "range" not in request.headers and settings.record_downloads:
        recorder: DownloadRecorder = request.app.state.downloads
        client = request.client.host if request.client else None
        event = DownloadEvent.of_served(served, client, request.headers.get("user-agent"))
        recorder.record(event)


def _presigned(request: Request, storage: FileStorage, path: str) -> str | None:
    settings: Settings = request.app.state.settings
    if request.method != "GET" or settings.presigned_download_seconds <= 0:
        return None
    return presigned_url(storage, path, settings.presigned_download_seconds)


async def _chunks(blob: BinaryIO) -> AsyncIterator[bytes]:
    try:
        async for chunk in iterate_in_threadpool(iter(partial(blob.read, CHUNK_SIZE), b"")):
            yield chunk
    finally:
        blob.close()


def _missing_blob(served: ServedFile) -> Response:
    # The row says we hold the file but the storage does not: an operator must look.
    log.error("blob of %s missing at %s", served.filename, served.storage_path)
    return not_found()


async def _serve_metadata(request: Request, release_file: ReleaseFile) -> Response:
    if release_file.metadata_sha256 is None:
        return not_found()
    headers = _immutable(release_file.metadata_sha256)
    unchanged = not_modified(request.headers.get("if-none-match"), headers)
    if unchanged is not None:
        return unchanged
    storage: FileStorage = request.app.state.storage
    data = await run_in_threadpool(project_page.core_metadata, storage, release_file)
    if data is None:
        log.error("core metadata of %s is neither stored nor readable", release_file.filename)
        return not_found()
    return Response(data, media_type=METADATA_TYPE, headers=headers)


routes: list[BaseRoute] = [Route(PREFIX + "{path:path}", serve, methods=["GET"])]
