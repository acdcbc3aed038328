"""The simple pages' hot path: a cached page answered before sessions, routing and the rest.

pip and uv fetch ``/simple/<project>/`` for every requirement they resolve, and nearly every
answer is a page already in the worker's cache. Such a request needs none of the layers a
person's request goes through (the session cookie, the check of the signed-in user, the
router's table of routes, the HTML error pages), so this middleware, placed just inside the
security headers, answers it from the cache at once. Everything else goes on as before:
other paths, a query string, a page not cached yet, or a cache due to read the journal (the
ordinary handler then reads it, so no page is served past its time).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.api.simple import PREFIX, cached_response, negotiate
from wheelyard.services.page_cache import PageCache


class CachedSimplePages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith("/"):
                response = _from_cache(scope, path[len(PREFIX) : -1])
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _from_cache(scope: Scope, key: str) -> Response | None:
    """The cached answer for project ``key``, or None to go on (the project list goes on)."""
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
