"""The plain answers every API gives alike: no such thing here, and "it lives at its normal
name" (a project asked for in another spelling)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response


def not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def moved_to(request: Request, path: str) -> RedirectResponse:
    """A permanent redirect to ``path``, keeping the query the client sent."""
    query = request.url.query
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=301)
