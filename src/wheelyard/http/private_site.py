"""A private site (``WHEELYARD_PRIVATE=1``): every read needs a signed-in user or credentials.

Machine routes (the simple index, files and their metadata, the JSON and stats APIs, feeds,
the sitemap) take HTTP basic auth and answer **401 with** ``WWW-Authenticate: Basic`` when
it is missing or wrong, never a redirect: pip and uv ask their keyring or netrc only after
a 401, and uv gives up on an index that redirects. Pages send people to sign in instead.
Signing in, resetting a password, static files and ``robots.txt`` stay open, and so does
the upload API, which checks its own credentials.

This sits in front of the cached fast path, so no cached answer reaches a request that has
not shown who it is. Verified credentials are remembered briefly per worker
(services.access.readers), so an install costs one check, not one per file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.http.responses import sign_in_first
from wheelyard.http.security_headers import ALL_HEADERS
from wheelyard.services.access.readers import RememberedReaders
from wheelyard.services.accounts.credentials import (
    Credentials,
    MalformedCredentials,
    parse_basic,
)

REALM = 'Basic realm="wheelyard"'
CREDENTIALS_NEEDED = (
    "This index is private: send HTTP basic credentials, the username __token__ with an API "
    "token as password (or your email and password where the index allows it)."
)
# Read by the pages and APIs that will show a reader what their roles let them see.
READER_ID = "wheelyard.reader_id"
# Set by the lane on the request that is to verify remembered credentials again.
CHECK_AGAIN = "wheelyard.check_credentials_again"

# "/pypi" takes the XML-RPC API (POST /pypi) as well as the JSON API under /pypi/.
MACHINE_PREFIXES = ("/simple", "/packages/", "/pypi", "/rss/", "/api/", "/sitemap")
# /_/oidc/: trusted publishing, whose CI jobs hold no credential until they have minted one
# (the audience names the site, no project; minting needs a valid OIDC token).
OPEN_PREFIXES = ("/static/", "/account/login", "/account/reset", "/legacy", "/_/oidc/")
# The health checks: a load balancer's probe has no credentials, and they tell nothing private.
OPEN_PATHS = frozenset({"/robots.txt", "/favicon.ico", "/_health/live", "/_health/ready"})

# Checks credentials against the database: the id of the account, or None.
Verifier = Callable[[Scope, Credentials], int | None]
# Answers a request from the worker's cache of public pages and files; False to go on.
CachedAnswer = Callable[[Scope, Receive, Send], Awaitable[bool]]


class ReaderChecks:
    """Who basic credentials stand for, as both layers of a private site ask it.

    Remembered for a while (services.access.readers). A credential checked by many requests
    at one moment (an install's parallel downloads, or every request that met an expiry) is
    verified once, the others waiting for that answer. One still in use is verified again by
    one request past half its life while the others go on, so a busy reader never meets an
    expiry. Every check runs inside a request, none in a task of its own.
    """

    def __init__(self, readers: RememberedReaders[int], verify: Verifier) -> None:
        self.readers = readers
        self.verify = verify
        self._pending: dict[bytes, asyncio.Future[int | None]] = {}

    def remembered(self, scope: Scope, authorization: bytes) -> int | None:
        """The reader if remembered (no waiting, no database). None for the one request that
        is to verify them again, marked so that ``reader_of`` does."""
        key = self.readers.key(authorization)
        reader = self.readers.lookup(key)
        if reader is not None and self.readers.claim_refresh(key):
            scope[CHECK_AGAIN] = True
            return None
        return reader

    async def reader_of(self, scope: Scope, authorization: bytes) -> int | None:
        """The reader, verifying the credentials when they are not remembered (or are due to
        be verified again by this request)."""
        key = self.readers.key(authorization)
        if not scope.get(CHECK_AGAIN):
            reader = self.readers.lookup(key)
            if reader is not None:
                return reader
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._check(scope, key, authorization))
            self._pending[key] = pending
            pending.add_done_callback(lambda _done: self._pending.pop(key, None))
        # Shielded: a client that hangs up must not cancel the check the others await.
        return await asyncio.shield(pending)

    async def _check(self, scope: Scope, key: bytes, authorization: bytes) -> int | None:
        started = self.readers.now()
        try:
            credentials = parse_basic(authorization.decode("latin-1"))
        except MalformedCredentials:
            return None
        if credentials is None:
            return None
        reader = await run_in_threadpool(self.verify, scope, credentials)
        if reader is None:
            self.readers.forget(key)
        else:
            self.readers.remember(key, reader, verified_at=started)
        return reader


class RememberedReaderLane:
    """In front of a private site's session layers: pip's and uv's requests, which carry basic
    credentials this worker verified lately and no cookie, are answered from the cache at
    once, as anonymous ones are on a public site.

    Without it every such request would pay for the session layers (which have nothing to
    read without a cookie) before reaching the cached answer, and a private site would serve
    its hot paths markedly slower than a public one. Anything else (a cookie, credentials
    not remembered, an answer not cached) goes on through the whole stack unchanged.
    """

    def __init__(self, app: ASGIApp, *, checks: ReaderChecks, answer: CachedAnswer) -> None:
        self.app = app
        self.checks = checks
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reader = self._remembered(scope)
            if reader is not None:
                scope[READER_ID] = reader
                if await self.answer(scope, receive, send):
                    return
        await self.app(scope, receive, send)

    def _remembered(self, scope: Scope) -> int | None:
        authorization: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                return None
            if name == b"authorization":
                authorization = value
        if authorization is None:
            return None
        return self.checks.remembered(scope, authorization)


class PrivateSiteMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        checks: ReaderChecks,
        signed_in: Callable[[Scope], int | None],
        open_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.checks = checks
        self.signed_in = signed_in
        self.open_paths = OPEN_PATHS | open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in self.open_paths or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        reader = self.signed_in(scope)
        if reader is None:
            reader = await self._reader_of(scope)
        if reader is None:
            response = _refusal(scope, machine=path.startswith(MACHINE_PREFIXES))
            await response(scope, receive, send)
            return
        scope[READER_ID] = reader
        await self.app(scope, receive, send)

    async def _reader_of(self, scope: Scope) -> int | None:
        authorization = Headers(scope=scope).get("authorization")
        if not authorization:
            return None
        return await self.checks.reader_of(scope, authorization.encode("latin-1"))


def _refusal(scope: Scope, *, machine: bool) -> Response:
    if machine:
        headers = {"WWW-Authenticate": REALM, **ALL_HEADERS}
        return PlainTextResponse(CREDENTIALS_NEEDED, status_code=401, headers=headers)
    query = scope.get("query_string", b"").decode("latin-1")
    return sign_in_first(scope["path"], query, ALL_HEADERS)
