"""The plain answers routes give alike: no such thing here, "it lives at its normal name" (a
project asked for in another spelling), and "sign in first, then come back here"."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response


def not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def moved_to(request: Request, path: str) -> RedirectResponse:
    """A permanent redirect to ``path``, keeping the query the client sent."""
    query = request.url.query
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=301)


def sign_in_first(
    path: str, query: str, headers: Mapping[str, str] | None = None
) -> RedirectResponse:
    """To the sign-in page, which comes back to ``path?query`` afterwards."""
    here = path + (f"?{query}" if query else "")
    target = "/account/login?" + urlencode({"next": here})
    return RedirectResponse(target, status_code=303, headers=headers)
