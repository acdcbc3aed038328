"""The hot paths: cached answers given before sessions, routing and the rest.

pip and uv fetch ``/simple/<project>/`` for every requirement they resolve, then download
the files it links; tools read ``/pypi/<project>/json``. Nearly every such request is for a
page already in the worker's cache, or a file whose row the worker already knows. Such a
request needs none of the layers a person's request goes through (the session cookie, the
check of the signed-in user, the router's table of routes, the HTML error pages), so this
middleware, the outermost of the app's own, answers it from the cache at once.
Everything else goes on as before: other paths, a query string, a page or file not cached
yet, or a cache that must read the journal first because another worker here committed a
change (the ordinary handler then reads it). The periodic check for changes made on other
machines is started in the background by the first answer due for it.

A cached page's response headers, security headers included, are built the first time the
page is served and kept with it: the same bytes go out for every request after that, with
no response object, header dictionary or header-adding wrapper in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.api import files, json_api
from wheelyard.api.cached_pages import cached_response, may_answer_from_cache
from wheelyard.api.simple import (
    MAX_REMEMBERED_ACCEPT,
    PREFIX,
    VARY,
    negotiate,
    remembered_negotiate,
)
from wheelyard.http.conditional import etag_matches
from wheelyard.http.security_headers import RAW_HEADERS, with_security_headers
from wheelyard.services.index.page_cache import PageCache, RenderedPage

JSON_API_PREFIX = "/pypi/"
JSON_API_SUFFIX = "/json"

RawHeaders = list[tuple[bytes, bytes]]


class CachedPages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await answer_cached(scope, receive, send):
            await self.app(scope, receive, send)


async def answer_cached(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer the request from the cache if it can be; False when it goes on to the app."""
    if scope["type"] != "http" or scope["query_string"]:
        return False
    path: str = scope["path"]
    method: str = scope["method"]
    if method == "GET" and path.startswith(PREFIX) and path.endswith("/"):
        return await _simple_page(scope, path[len(PREFIX) : -1], send)
    if method == "GET" and path.startswith(JSON_API_PREFIX):
        key = path[len(JSON_API_PREFIX) : -len(JSON_API_SUFFIX)]
        return path.endswith(JSON_API_SUFFIX) and await _json_document(scope, key, send)
    if method in {"GET", "HEAD"} and path.startswith(files.PREFIX):
        response = await files.cached_download(scope)
        if response is not None:
            await response(scope, receive, with_security_headers(send))
            return True
    return False


def _request_headers(scope: Scope) -> tuple[str | None, str | None]:
    """The ``Accept`` and ``If-None-Match`` of a request, read straight from the ASGI scope."""
    accept = if_none_match = None
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value.decode("latin-1")
        elif name == b"if-none-match":
            if_none_match = value.decode("latin-1")
    return accept, if_none_match


async def _simple_page(scope: Scope, key: str, send: Send) -> bool:
    """Send the cached simple page of project ``key``; False to go on (the project list goes
    on too: it is streamed from its chunks by its handler)."""
    pages: PageCache = scope["app"].state.pages
    if not key or "/" in key or not may_answer_from_cache(scope["app"]):
        return False
    accept, if_none_match = _request_headers(scope)
    # The memo straight away for the usual short Accept (one call less on the hottest path).
    if accept is None or len(accept) <= MAX_REMEMBERED_ACCEPT:
        media_type = remembered_negotiate(accept, None)
    else:
        media_type = negotiate(accept)
    if media_type is None:
        return False
    # Keys are normalized names: another spelling misses here and is redirected as usual.
    page = pages.lookup(key, media_type, count_miss=False)
    if page is None:
        return False
    await _send_page(page, if_none_match, VARY, send)
    return True


async def _json_document(scope: Scope, key: str, send: Send) -> bool:
    """Send the cached ``/pypi/<key>/json`` document; False to go on."""
    pages: PageCache = scope["app"].state.pages
    if not key or "/" in key or not may_answer_from_cache(scope["app"]):
        return False
    page = pages.lookup(key, json_api.PROJECT_VARIANT, count_miss=False)
    if page is None:
        return False
    await _send_page(page, _request_headers(scope)[1], json_api.HEADERS, send)
    return True


async def _send_page(
    page: RenderedPage, if_none_match: str | None, extra: Mapping[str, str], send: Send
) -> None:
    not_modified = etag_matches(if_none_match, page.etag)
    headers = _prepared_headers(page, extra, not_modified)
    status = 304 if not_modified else 200
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if not_modified else page.body})


def _prepared_headers(
    page: RenderedPage, extra: Mapping[str, str], not_modified: bool
) -> RawHeaders:
    """The page's response headers, built by the same code as the ordinary handler's
    (``cached_response``) the first time, then kept on the page."""
    key = (*extra.items(), not_modified)
    found = page.prepared.get(key)
    if found is None:
        response: Response = cached_response(page, page.etag if not_modified else None, extra)
        found = page.prepared[key] = [*response.raw_headers, *RAW_HEADERS]
    return cast(RawHeaders, found)
