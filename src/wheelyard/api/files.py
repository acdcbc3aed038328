"""File downloads: ``/packages/<storage path>`` and the PEP 658 ``.metadata`` beside each.

The URL is ``/packages/`` followed by the file's storage path (PyPI's layout,
``ab/cd/<rest of the BLAKE2b-256>/<filename>``), as ``services.packages.file_url`` links it.
Files never change under a URL, so they are cached for a year. A full GET of a file is
recorded as a download, off the request path; HEAD, 304s, ranges and metadata are not.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from functools import partial
from typing import BinaryIO

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from wheelyard.api.simple import not_found
from wheelyard.config import Settings
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import simple_index
from wheelyard.services.downloads import DownloadEvent, DownloadRecorder, find_served_file
from wheelyard.services.page_cache import etag_matches
from wheelyard.storage.base import FileStorage, StorageError, presigned_url
from wheelyard.web.transaction import transaction

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


def media_type(filename: str) -> str:
    for suffix, kind in MEDIA_TYPES:
        if filename.endswith(suffix):
            return kind
    return "application/octet-stream"


def _find(request: Request, filename: str) -> ReleaseFile | None:
    with transaction(request) as db:
        return find_served_file(db, filename)


async def serve(request: Request) -> Response:
    path: str = request.path_params["path"]
    wants_metadata = path.endswith(simple_index.METADATA_SUFFIX)
    dist_path = path.removesuffix(simple_index.METADATA_SUFFIX) if wants_metadata else path
    release_file = await run_in_threadpool(_find, request, dist_path.rsplit("/", 1)[-1])
    # Only the exact path we link to serves a file: no other spelling, nothing unlisted.
    if release_file is None or release_file.storage_path != dist_path:
        return not_found()
    if wants_metadata:
        return await _serve_metadata(request, release_file)
    return await _serve_file(request, release_file)


async def _serve_file(request: Request, release_file: ReleaseFile) -> Response:
    assert release_file.storage_path is not None
    headers = {"ETag": f'"{release_file.sha256_digest}"', "Cache-Control": IMMUTABLE}
    if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    storage: FileStorage = request.app.state.storage
    kind = media_type(release_file.filename)
    local = storage.local_path(release_file.storage_path)
    response: Response
    if local is not None:
        try:
            stat = await run_in_threadpool(os.stat, local)
        except FileNotFoundError:
            return _missing_blob(release_file)
        response = FileResponse(local, headers=headers, media_type=kind, stat_result=stat)
    elif (redirect := _presigned(request, storage, release_file.storage_path)) is not None:
        # The object store serves the bytes; the download still counts here.
        response = RedirectResponse(redirect, status_code=302)
    else:
        try:
            blob = await run_in_threadpool(storage.open, release_file.storage_path)
        except StorageError:
            return _missing_blob(release_file)
        headers["Content-Length"] = str(release_file.size)
        response = StreamingResponse(_chunks(blob), headers=headers, media_type=kind)
    settings: Settings = request.app.state.settings
    if request.method == "GET" and "range" not in request.headers and settings.record_downloads:
        _record(request, release_file)
    return response


def _presigned(request: Request, storage: FileStorage, path: str) -> str | None:
    settings: Settings = request.app.state.settings
    if request.method != "GET" or settings.presigned_download_seconds <= 0:
        return None
    return presigned_url(storage, path, settings.presigned_download_seconds)


def _record(request: Request, release_file: ReleaseFile) -> None:
    recorder: DownloadRecorder = request.app.state.downloads
    client = request.client.host if request.client else None
    recorder.record(DownloadEvent.of(release_file, client, request.headers.get("user-agent")))


async def _chunks(blob: BinaryIO) -> AsyncIterator[bytes]:
    try:
        async for chunk in iterate_in_threadpool(iter(partial(blob.read, CHUNK_SIZE), b"")):
            yield chunk
    finally:
        blob.close()


def _missing_blob(release_file: ReleaseFile) -> Response:
    # The row says we hold the file but the storage does not: an operator must look.
    log.error("blob of %s missing at %s", release_file.filename, release_file.storage_path)
    return not_found()


async def _serve_metadata(request: Request, release_file: ReleaseFile) -> Response:
    if release_file.metadata_sha256 is None:
        return not_found()
    headers = {"ETag": f'"{release_file.metadata_sha256}"', "Cache-Control": IMMUTABLE}
    if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    storage: FileStorage = request.app.state.storage
    data = await run_in_threadpool(simple_index.core_metadata, storage, release_file)
    if data is None:
        log.error("core metadata of %s is neither stored nor readable", release_file.filename)
        return not_found()
    return Response(data, media_type=METADATA_TYPE, headers=headers)


routes: list[BaseRoute] = [Route("/packages/{path:path}", serve, methods=["GET"])]
