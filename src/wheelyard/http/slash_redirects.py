"""The redirect to a path's other spelling (with or without its trailing slash), relative.

Starlette's router makes this redirect itself, with an absolute Location built from the Host
header, which the client chose: a proxy that keeps the redirect would send the next client
to whatever host the first one named. RFC 7231 (7.1.2) allows a relative Location, and
every client follows one, so this one names the path alone.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send


def other_spelling(router: Router, scope: Scope) -> str | None:
    """The Location for a path a route takes in its other spelling, or None."""
    path: str = scope["path"]
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    # "//host" or "/\host" is a URL of another site to a browser, not a path of this one.
    if not other.startswith("/") or other[1:2] in {"/", "\\"}:
        return None
    other_scope = {**scope, "path": other}
    if not any(route.matches(other_scope)[0] is not Match.NONE for route in router.routes):
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    return other + (f"?{query}" if query else "")


def use_relative_slash_redirects(router: Router) -> None:
    """Replace the router's own trailing-slash redirect with one whose Location is relative."""
    router.redirect_slashes = False
    fallback = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            location = other_spelling(router, scope)
            if location is not None:
                await RedirectResponse(location)(scope, receive, send)
                return
        await fallback(scope, receive, send)

    router.default = default
