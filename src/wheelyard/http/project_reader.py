"""Who is reading, for a page of a private project: the signed-in account, or the account
behind HTTP basic credentials (pip and uv send those; a token may be limited to one project).

Asked only once a request has reached a private project, never for a public one, so public
reads cost nothing more. Verified credentials are remembered as the private site remembers
them (services/access/readers.py), so an install of a private project checks its token once.

No credentials means an anonymous reader, who gets 404 like everyone without a role, not 401:
a 401 would say the project exists. pip and uv send credentials given in the index URL with
the first request, so installing a private project from ``https://__token__:TOKEN@host/simple/``
works without a challenge; a netrc or keyring, asked only after a 401, needs the private site
(``WHEELYARD_PRIVATE=1``), which challenges every anonymous request.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wheelyard.data.package import Package, Visibility
from wheelyard.http.transaction import transaction
from wheelyard.services.access import visibility
from wheelyard.services.access.readers import RememberedReaders
from wheelyard.services.access.visibility import Reader
from wheelyard.services.accounts.credentials import (
    Credentials,
    MalformedCredentials,
    parse_basic,
)

_RESOLVED = "wheelyard.project_reader"
# Set once a request has been shown a private project: its answer is for that reader alone.
_SHOWN_PRIVATE = "wheelyard.shown_private"
PRIVATE_CACHE_CONTROL = "private, max-age=0, must-revalidate"

# Checks credentials against the database: who they stand for, or None.
ReaderVerifier = Callable[[Scope, Credentials], Reader | None]


class ProjectReaders:
    def __init__(
        self,
        *,
        verify: ReaderVerifier,
        signed_in: Callable[[Scope], int | None],
        remembered: RememberedReaders[Reader] | None = None,
    ) -> None:
        self.verify = verify
        self.signed_in = signed_in
        self.remembered = remembered if remembered is not None else RememberedReaders[Reader]()
        # The private projects each reader may see, for as long as credentials are remembered:
        # a role taken away stops working within that time, as a revoked token does.
        self.readable = RememberedReaders[frozenset[str]]()

    async def reader_of(self, scope: Scope) -> Reader | None:
        """The reader of this request (worked out once per request); None: anonymous."""
        if _RESOLVED in scope:
            found: Reader | None = scope[_RESOLVED]
            return found
        settled, pending = self._known(scope)
        if pending is not None:
            settled = await run_in_threadpool(self._verified, scope, *pending)
        scope[_RESOLVED] = settled
        return settled

    def reader_in_thread(self, scope: Scope) -> Reader | None:
        """As ``reader_of``, for views already running in a worker thread."""
        if _RESOLVED in scope:
            found: Reader | None = scope[_RESOLVED]
            return found
        settled, pending = self._known(scope)
        if pending is not None:
            settled = self._verified(scope, *pending)
        scope[_RESOLVED] = settled
        return settled

    def _known(self, scope: Scope) -> tuple[Reader | None, tuple[Credentials, bytes] | None]:
        """The reader, when known without the database; else the credentials to verify."""
        connection = HTTPConnection(scope)
        # Basic credentials first: a token limited to one project stays limited even when
        # its holder is also signed in in a browser sharing the request.
        authorization = connection.headers.get("authorization")
        if authorization:
            key = self.remembered.key(authorization.encode("latin-1"))
            remembered = self.remembered.lookup(key)
            if remembered is not None:
                return remembered, None
            try:
                credentials = parse_basic(authorization)
            except MalformedCredentials:
                return None, None
            return (None, None) if credentials is None else (None, (credentials, key))
        if "session" not in scope or not connection.cookies:
            # No cookie, no session to read (reading one would add Vary: Cookie to every
            # anonymous answer).
            return None, None
        user_id = self.signed_in(scope)
        return (Reader(user_id) if user_id is not None else None), None

    def _verified(self, scope: Scope, credentials: Credentials, key: bytes) -> Reader | None:
        reader = self.verify(scope, credentials)
        if reader is not None:
            self.remembered.remember(key, reader)
        return reader


async def reader_of(connection: HTTPConnection) -> Reader | None:
    readers: ProjectReaders = connection.app.state.project_readers
    return await readers.reader_of(connection.scope)


async def readable_ids(connection: HTTPConnection, reader: Reader) -> frozenset[str]:
    """The private projects ``reader`` may see, remembered briefly per worker."""
    readers: ProjectReaders = connection.app.state.project_readers
    key = readers.readable.key(f"{reader.user_id}\0{reader.only_package or ''}".encode())
    found = readers.readable.lookup(key)
    if found is None:
        found = await run_in_threadpool(_private_ids, connection, reader)
        readers.readable.remember(key, found)
    return found


def _private_ids(connection: HTTPConnection, reader: Reader) -> frozenset[str]:
    with transaction(connection) as db:
        return visibility.private_ids_for(db, reader)


async def visible_as(connection: HTTPConnection, package_id: str) -> Visibility | None:
    """The project's visibility when this request may see it; None when it may not (or there
    is no such project): answer 404 then, as for a name never registered. The reader is
    worked out only for a private project."""
    found = await run_in_threadpool(_visibility, connection, package_id)
    if found != Visibility.PRIVATE:
        return found
    reader = await reader_of(connection)
    if reader is None:
        return None
    allowed = await run_in_threadpool(_may_read_private, connection, reader, package_id)
    if not allowed:
        return None
    connection.scope[_SHOWN_PRIVATE] = True
    return Visibility.PRIVATE


def may_see(connection: HTTPConnection, db: Session, package: Package) -> bool:
    """For views running in a thread: whether this request may see ``package``."""
    if package.visibility == Visibility.PUBLIC:
        return True
    if not visibility.may_read_private(db, reader_in_thread(connection), package.id):
        return False
    connection.scope[_SHOWN_PRIVATE] = True
    return True


def readable_private(connection: HTTPConnection, db: Session) -> frozenset[str]:
    """For views running in a thread: the private projects this request may see."""
    readable = visibility.private_ids_for(db, reader_in_thread(connection))
    if readable:
        connection.scope[_SHOWN_PRIVATE] = True
    return readable


def _visibility(connection: HTTPConnection, package_id: str) -> Visibility | None:
    with transaction(connection) as db:
        return visibility.visibility_of(db, package_id)


def _may_read_private(connection: HTTPConnection, reader: Reader, package_id: str) -> bool:
    with transaction(connection) as db:
        return visibility.may_read_private(db, reader, package_id)


def reader_in_thread(connection: HTTPConnection) -> Reader | None:
    """The reader of this request, for views already running in a worker thread."""
    readers: ProjectReaders = connection.app.state.project_readers
    return readers.reader_in_thread(connection.scope)


def shown_private(connection: HTTPConnection) -> None:
    """Mark this request's answer as one for its reader alone."""
    connection.scope[_SHOWN_PRIVATE] = True


class PrivateAnswers:
    """Answers that showed a private project go out as ``Cache-Control: private``, whatever
    the view set (a feed's ``public, max-age=300``): no shared cache between the reader and
    the index may keep them for someone else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get(_SHOWN_PRIVATE):
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
            await send(message)

        await self.app(scope, receive, send_private)
