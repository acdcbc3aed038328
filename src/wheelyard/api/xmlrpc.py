"""PyPI's XML-RPC API at ``POST /pypi``: what bandersnatch's default mode and ``pip search``
talk to (services/xmlrpc).

The body is read up to ``MAX_BODY_BYTES`` (413 past it), must be XML (415 otherwise), and is
parsed by defusedxml's parser; anything wrong with the call itself is an XML-RPC fault with
the reason, which every client shows. Calls are limited per client address
(``WHEELYARD_XMLRPC_CALLS_PER_MINUTE``).

Who sees what: anonymous calls see public projects only. Calls with HTTP basic credentials
(``__token__`` and an API token, or an email and password where the index allows it) also
see the private projects the account holds a role on, as pip sees them on the simple
pages; wrong credentials count as none. A browser's session cookie counts for nothing here.
On a private site (``WHEELYARD_PRIVATE=1``) the site itself asks for credentials first
(http/private_site.py).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.api.json_api import site_root
from wheelyard.http.origin import client_origin
from wheelyard.http.project_reader import reader_in_thread, shown_private
from wheelyard.http.transaction import transaction
from wheelyard.services.access import visibility
from wheelyard.services.xmlrpc import methods
from wheelyard.services.xmlrpc.codec import (
    APPLICATION_ERROR,
    Fault,
    dump_fault,
    dump_result,
    parse_call,
)
from wheelyard.services.xmlrpc.throttle import CallThrottle

# No call of the API needs more than a few hundred bytes; a search spec a few kilobytes.
MAX_BODY_BYTES = 64 * 1024
XML_TYPES = frozenset({"text/xml", "application/xml"})
XML = "text/xml; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store"}
TOO_LARGE = f"Request body too large: an XML-RPC call here is at most {MAX_BODY_BYTES} bytes."
NOT_XML = "Unsupported media type: send the XML-RPC call as text/xml."


async def _body(request: Request) -> bytes | None:
    """The body, or None once it grows past MAX_BODY_BYTES (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _xml(body: bytes) -> Response:
    return Response(body, media_type=XML, headers=NO_STORE)


async def endpoint(request: Request) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in XML_TYPES:
        return PlainTextResponse(NOT_XML, status_code=415)
    body = await _body(request)
    if body is None:
        return PlainTextResponse(TOO_LARGE, status_code=413, headers={"Connection": "close"})
    throttle: CallThrottle = request.app.state.xmlrpc_throttle
    wait = throttle.refuse(client_origin(request).ip_address)
    if wait is not None:
        reason = f"too many requests: try again in {wait} seconds"
        return _xml(dump_fault(Fault(APPLICATION_ERROR, reason)))
    try:
        call = parse_call(body)
        result = await run_in_threadpool(_answer, request, call.method, call.params)
    except Fault as fault:
        return _xml(dump_fault(fault))
    return _xml(dump_result(result))


def _answer(request: Request, method: str, params: tuple[object, ...]) -> object:
    # Basic credentials only, never a browser's session: a call is what a tool makes.
    reader = reader_in_thread(request) if "authorization" in request.headers else None
    # Reads only: on SQLite it needs no write lock, whatever the POST.
    with transaction(request, writes=False) as db:
        if visibility.private_ids_for(db, reader):
            shown_private(request)
        context = methods.Context(db, reader, request.app.state.storage, site_root(request))
        return methods.call(context, method, params)


routes: list[BaseRoute] = [
    Route("/pypi", endpoint, methods=["POST"]),
    Route("/pypi/", endpoint, methods=["POST"]),
]
