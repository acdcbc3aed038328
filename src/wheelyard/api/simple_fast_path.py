"""The hot paths: cached answers given before sessions, routing and the rest.

pip and uv fetch ``/simple/<project>/`` for every requirement they resolve, then download
the files it links; tools read ``/pypi/<project>/json``. Nearly every such request is for a
page already in the worker's cache, or a file whose row the worker already knows. Such a
request needs none of the layers a person's request goes through (the session cookie, the
check of the signed-in user, the router's table of routes, the HTML error pages), so this
middleware, placed just inside the security headers, answers it from the cache at once.
Everything else goes on as before: other paths, a query string, a page or file not cached
yet, or a cache due to read the journal (the ordinary handler then reads it, so nothing is
served past its time).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.api import files, json_api
from wheelyard.api.simple import PREFIX, cached_response, negotiate
from wheelyard.services.page_cache import PageCache

JSON_API_PREFIX = "/pypi/"
JSON_API_SUFFIX = "/json"


class CachedPages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["query_string"]:
            response = _from_cache(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _from_cache(scope: Scope) -> Response | None:
    path: str = scope["path"]
    method: str = scope["method"]
    if method == "GET" and path.startswith(PREFIX) and path.endswith("/"):
        return _simple_page(scope, path[len(PREFIX) : -1])
    if method == "GET" and path.startswith(JSON_API_PREFIX) and path.endswith(JSON_API_SUFFIX):
        return _json_document(scope, path[len(JSON_API_PREFIX) : -len(JSON_API_SUFFIX)])
    if method in {"GET", "HEAD"} and path.startswith(files.PREFIX):
        return files.cached_download(scope)
    return None


def _simple_page(scope: Scope, key: str) -> Response | None:
    """The cached simple page of project ``key``, or None to go on (the project list goes on:
    it is streamed from its chunks by its handler)."""
    pages: PageCache = scope["app"].state.pages
    if not key or "/" in key or pages.check_due():
        return None
    headers = Headers(scope=scope)
    media_type = negotiate(headers.get("accept"))
    if media_type is None:
        return None
    # Keys are normalized names: another spelling misses here and is redirected as usual.
    page = pages.lookup(key, media_type)
    if page is None:
        return None
    return cached_response(page, headers.get("if-none-match"))


def _json_document(scope: Scope, key: str) -> Response | None:
    """The cached ``/pypi/<key>/json`` document, or None to go on."""
    pages: PageCache = scope["app"].state.pages
    if not key or "/" in key or pages.check_due():
        return None
    request = Request(scope)
    page = pages.lookup(key, json_api.project_variant(request))
    if page is None:
        return None
    return cached_response(page, request.headers.get("if-none-match"), json_api.HEADERS)
