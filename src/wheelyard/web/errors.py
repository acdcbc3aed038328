"""Error pages: HTML for people, plain text for the machine-facing APIs."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wheelyard.data.db_session import database_busy, database_unavailable
from wheelyard.http.security_headers import ALL_HEADERS
from wheelyard.web.templating import render

log = logging.getLogger(__name__)

# Clients of these paths (pip, uv, twine, mirrors) read status lines, not pages.
API_PREFIXES = ("/simple", "/pypi", "/legacy", "/packages", "/api")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


# What a page says under its heading when the code raised no reason of its own: the bare
# status phrase would only repeat the heading ("Not found", then "Not Found").
PAGE_MESSAGES = {
    404: (
        "There is no page at this address. The project or page may have been removed,"
        " or the link mistyped."
    ),
    405: "This address does not take that kind of request.",
}


def page_message(status: int, detail: str) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = None
    if detail == phrase:
        return PAGE_MESSAGES.get(status, "The request could not be handled.")
    return detail


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not _wants_html(request) or exc.status_code < 400:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    return render(
        request,
        "errors/error.html",
        status_code=exc.status_code,
        headers=exc.headers,
        status=exc.status_code,
        message=page_message(exc.status_code, exc.detail),
    )


# Long enough for a database restart, short enough that clients (pip retries 5xx) come back.
DATABASE_RETRY_AFTER = 5
DATABASE_UNAVAILABLE = "The database is unavailable at the moment; try again shortly."
# Other work held the write lock past the busy timeout: worth trying again at once.
BUSY_RETRY_AFTER = 1
DATABASE_BUSY = "The index is busy writing; try again in a moment."


async def database_error(request: Request, exc: Exception) -> Response:
    """503 while the database cannot be reached or is busy; any other database error is a 500."""
    if database_unavailable(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        message, retry_after = DATABASE_UNAVAILABLE, DATABASE_RETRY_AFTER
    elif database_busy(exc):
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        message, retry_after = DATABASE_BUSY, BUSY_RETRY_AFTER
    else:
        # Re-raised so the outermost layer renders the 500 page, as for any other bug.
        raise exc
    # Plain text for people too: the HTML page's layout may itself need the database.
    return PlainTextResponse(message, status_code=503, headers={"Retry-After": str(retry_after)})


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "Something went wrong on our side. It has been logged."
    # Sent from outside the security headers middleware (see http.security_headers).
    if not _wants_html(request):
        return PlainTextResponse(message, status_code=500, headers=ALL_HEADERS)
    return render(
        request,
        "errors/error.html",
        status_code=500,
        headers=ALL_HEADERS,
        status=500,
        message=message,
    )
