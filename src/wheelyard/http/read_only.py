"""Read-only mode: while the site flag is set, every write answers 503 with its reason.

A pure ASGI middleware in front of every route: uploads, sign-ups, manage actions, token
creation and any other POST stop here, before a transaction; reads (GET, HEAD) and so
installs go on. The site admin pages stay open, so an admin can end the mode, and so does
logging in and out (an admin must be able to sign in to do that). The flag comes from this
worker's short-lived copy (services/site/flags.py): no query per request.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.http.transaction import READ_ONLY_METHODS
from wheelyard.services.site.flags import Flags

# Writes that go on: the admin pages (to end the mode) and signing in and out to reach them.
OPEN_PREFIXES = ("/admin/", "/account/login", "/account/logout")
# A body longer than this is not read to its end before the 503: the connection closes.
MAX_DRAINED = 256 * 1024 * 1024
RETRY_AFTER = "300"


def message(reason: str) -> str:
    return f"This index is read-only at the moment: {reason} Installs and reads still work.\n"


class ReadOnlyMiddleware:
    def __init__(self, app: ASGIApp, flags: Callable[[Scope], Flags]) -> None:
        self.app = app
        self.flags = flags

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in READ_ONLY_METHODS
            or scope["path"].startswith(OPEN_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        flags = await run_in_threadpool(self.flags, scope)
        if flags.read_only is None:
            await self.app(scope, receive, send)
            return
        # Read what the client is still sending (an upload), so it hears the reason rather
        # than a connection dropped mid-send; nothing of it is kept.
        drained = 0
        while drained <= MAX_DRAINED:
            received = await receive()
            if received["type"] != "http.request":
                break
            drained += len(received.get("body", b""))
            if not received.get("more_body", False):
                break
        response = PlainTextResponse(
            message(flags.read_only), status_code=503, headers={"Retry-After": RETRY_AFTER}
        )
        await response(scope, receive, send)
