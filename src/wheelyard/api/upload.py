"""PyPI's legacy upload API at ``/legacy/``: what ``twine upload`` talks to.

One multipart POST per file (``:action=file_upload``), authenticated with HTTP basic auth.
This module only reads the request: body size, multipart form, credentials. The rules live
in ``services.uploads.register``. A refusal is a 4xx whose plain-text body is the reason; twine
prints it with ``--verbose`` and ``--skip-existing`` reads "File already exists" from it.

PyPI also puts the reason into the HTTP status line. An ASGI application cannot: the ASGI
``http.response.start`` message carries a status code only, and servers (granian, uvicorn)
write the standard phrase for it.
"""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive

from wheelyard.config import Settings
from wheelyard.data.package import Visibility
from wheelyard.http.origin import client_origin
from wheelyard.http.retry import Contended, retry_collisions
from wheelyard.http.transaction import transaction
from wheelyard.services.accounts import mail
from wheelyard.services.accounts.credentials import Credentials
from wheelyard.services.audit import Origin
from wheelyard.services.naming import normalize_name
from wheelyard.services.uploads import auth as upload_auth
from wheelyard.services.uploads import policy, register
from wheelyard.services.uploads.auth import AuthenticationError, Uploader
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import ClaimedDigests, IncomingFile
from wheelyard.services.uploads.limits import UploadLimits
from wheelyard.services.uploads.metadata import metadata_from_form
from wheelyard.services.uploads.register import Outcome, Registered
from wheelyard.services.upstream import claims
from wheelyard.services.upstream.sources import upstreams
from wheelyard.storage.base import StorageError, StorageFull

log = logging.getLogger(__name__)

# Room for the metadata fields and the multipart framing beside the largest file; a file
# a little over the limit still gets the friendlier "File too large" answer.
MAX_BODY_SIZE = policy.MAX_FILE_SIZE + 24 * policy.MEGABYTE
# One text field (the description is the long one, up to 4 bytes per character).
MAX_FIELD_SIZE = 4 * policy.MAX_DESCRIPTION_LENGTH
MAX_FIELDS = 1000
MAX_FILES = 3  # the distribution, and a signature some clients still send
# Two uploads racing to create the same project or release: the loser retries and then
# sees the winner's rows (and is refused if it may not upload there). On SQLite a
# transaction that read before another writer committed cannot write at all; it retries too.
ATTEMPTS = 5
CONTENTION = "Another upload changed this project at the same moment; try again."
STORAGE_FULL = (
    "The index has no room left to store the file; nothing was changed. "
    "Its operator has to free space first."
)
STORAGE_FAILED = "The file could not be stored just now; nothing was changed. Try again later."
REALM = 'Basic realm="wheelyard upload"'


class _BodyTooLarge(Exception):
    pass


class _CutOff(Exception):
    """The body ended before the multipart delimiter that closes it."""


class _Refusal(Exception):
    """Refused while reading the request, before the upload rules are reached."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def _limited(receive: Receive, limit: int, close_delimiter: bytes | None = None) -> Receive:
    """``receive`` that stops once the request body passes ``limit`` bytes.

    With ``close_delimiter``, it also stops at the end of a body that never sent it. The
    multipart parser takes such a body for complete and drops the part it was cut in, and
    with it the temporary file it had opened for that part, which nothing then closes.
    Failing inside the stream instead lets the parser close every file it opened.
    """
    received = 0
    needle = b"\r\n" + close_delimiter if close_delimiter else b""
    # The body's first delimiter needs no line break before it.
    tail = b"\r\n"
    seen = not needle

    async def limited_receive() -> Message:
        nonlocal received, tail, seen
        message = await receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            received += len(body)
            if received > limit:
                raise _BodyTooLarge
            if not seen:
                seen = needle in tail + body[: len(needle)] or needle in body
                tail = (tail + body)[-len(needle) :]
                if not seen and not message.get("more_body", False):
                    raise _CutOff
        return message

    return limited_receive


def _close_delimiter(content_type: str) -> bytes | None:
    """``--boundary--``, read from the Content-Type as the multipart parser reads it."""
    _mime, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    return b"--" + boundary + b"--" if boundary else None


def _check_declared_length(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_SIZE:
        raise _Refusal(413, _too_large_message())


async def _read_form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise _Refusal(400, "Upload a file as multipart/form-data.")
    delimiter = _close_delimiter(content_type)
    limited = Request(request.scope, _limited(request.receive, MAX_BODY_SIZE, delimiter))
    try:
        return await limited.form(
            max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_SIZE
        )
    except _BodyTooLarge as error:
        raise _Refusal(413, _too_large_message()) from error
    except HTTPException as error:  # Starlette's answer to a malformed multipart body
        raise _Refusal(400, f"Invalid multipart form: {error.detail}") from error
    except UnicodeError as error:
        # Starlette decodes each part's name and value with the charset the Content-Type
        # names, and expects only UnicodeDecodeError back; some codecs ("undefined",
        # "punycode", "idna") fail with the plain UnicodeError instead.
        raise _Refusal(400, "Invalid multipart form: its charset cannot decode it.") from error
    except (ClientDisconnect, _CutOff) as error:
        raise _Refusal(400, "The upload was cut off before it was complete.") from error


async def _discard_body(request: Request) -> None:
    """Read the body without keeping it, so the client (still sending) hears the answer.

    A client that is refused before its upload is read would otherwise see the connection
    drop mid-send instead of the reason.
    """
    limited = Request(request.scope, _limited(request.receive, MAX_BODY_SIZE))
    try:
        async for _chunk in limited.stream():
            pass
    except (_BodyTooLarge, ClientDisconnect):
        pass


def _too_large_message() -> str:
    return f"Request too large: files are limited to {policy.MAX_FILE_SIZE // policy.MEGABYTE} MB."


def _fields(form: FormData) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    return fields


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _check_action(fields: dict[str, list[str]]) -> None:
    action = _first(fields, ":action")
    if action == "submit":
        raise _Refusal(410, "Registering a project first is not needed: upload its files directly.")
    if action != "file_upload":
        raise _Refusal(400, "Unknown or missing ':action': this endpoint takes 'file_upload'.")
    if (_first(fields, "protocol_version") or "1") != "1":
        raise _Refusal(400, "Unknown protocol version.")


def _incoming(form: FormData, fields: dict[str, list[str]]) -> IncomingFile:
    content = form.get("content")
    if not isinstance(content, UploadFile) or content.filename is None:
        raise _Refusal(400, "Upload payload does not have a file.")
    return IncomingFile(
        filename=content.filename,
        content=content.file,
        filetype=_first(fields, "filetype") or "",
        pyversion=_first(fields, "pyversion"),
        comment=_first(fields, "comment"),
        claimed=ClaimedDigests(
            md5=_first(fields, "md5_digest"),
            sha256=_first(fields, "sha256_digest"),
            blake2_256=_first(fields, "blake2_256_digest"),
        ),
    )


def _authenticate(request: Request, origin: Origin) -> Uploader:
    """Who uploads; _Refusal (401, 403 or 429) when the credentials let nobody in."""
    try:
        credentials = upload_auth.parse_basic(request.headers.get("authorization"))
        # Signing in only adds audit rows, which take no key a racer could take first: the
        # one collision here is SQLite refusing a writer whose snapshot another moved past.
        return retry_collisions(
            partial(_authenticate_once, request, credentials, origin),
            attempts=ATTEMPTS,
            what="authentication",
            collisions=(sa.exc.OperationalError,),
        )
    except Contended as error:
        raise _Refusal(409, CONTENTION) from error
    except AuthenticationError as error:
        headers = {"WWW-Authenticate": REALM} if error.status == 401 else {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
        raise _Refusal(error.status, error.message, headers) from error


def _authenticate_once(
    request: Request, credentials: Credentials | None, origin: Origin
) -> Uploader:
    """One try, in a transaction of its own that commits even a failed password attempt."""
    settings: Settings = request.app.state.settings
    failure: AuthenticationError | None = None
    with transaction(request) as db:
        try:
            return upload_auth.authenticate(
                db,
                request.app.state.passwords,
                credentials,
                password_uploads=settings.password_uploads,
                origin=origin,
                verified_email_required=mail.smtp_server(settings) is not None,
            )
        except AuthenticationError as error:
            failure = error  # raised once the block has committed the attempt's audit row
    raise failure


def _register(
    request: Request,
    uploader: Uploader,
    origin: Origin,
    metadata_fields: dict[str, list[str]],
    incoming: IncomingFile,
) -> Response:
    settings: Settings = request.app.state.settings
    # Once, before any transaction: the form's metadata, the digests, the archive and the
    # README (rendered with a deadline) are the same for every attempt, and slow work must
    # not hold the database's write lock. UploadError when something is wrong.
    prepared = register.prepare(
        incoming,
        metadata=metadata_from_form(metadata_fields),
        readme_seconds=settings.readme_render_seconds,
    )
    _check_upstream_name(request, uploader, prepared.metadata.name)
    try:
        registered = retry_collisions(
            partial(_register_once, request, uploader, origin, prepared),
            attempts=ATTEMPTS,
            what=f"upload of {incoming.filename}",
        )
    except StorageFull as error:
        # Nothing was committed nor kept: the operator must make room.
        log.error("storing %s failed: %s", incoming.filename, error)
        return refusal(507, STORAGE_FULL)
    except StorageError:
        # Nothing was committed; the blob store is what failed, not the upload.
        log.exception("storing %s failed", incoming.filename)
        return refusal(503, STORAGE_FAILED)
    except Contended:
        return refusal(409, CONTENTION)
    if registered.outcome is Outcome.ALREADY_PRESENT:
        return PlainTextResponse(f"{incoming.filename} is already here; nothing changed.\n")
    return PlainTextResponse(f"Uploaded {incoming.filename}.\n")


def _check_upstream_name(request: Request, uploader: Uploader, name: str) -> None:
    """_Refusal when the upload would create a project that an upstream index already has
    (services/upstream/claims.py); site admins may."""
    settings: Settings = request.app.state.settings
    if not settings.upstream_urls or uploader.is_admin:
        return
    project_id = normalize_name(name)
    with transaction(request) as db:
        if not claims.needs_check(db, project_id, settings.upstream_block):
            return
        source = claims.cached_claim(db, project_id)
    if source is None:
        try:
            source = claims.upstream_claim(
                request.app.state.upstream_http, upstreams(settings.upstream_urls), project_id
            )
        except claims.UpstreamUnknown as error:
            # Unchecked, the name could be an upstream's: refused until it can be checked.
            raise _Refusal(503, f"Cannot check the name at the upstream index: {error}") from None
    if source is not None:
        raise _Refusal(403, claims.refusal_message(name, source))


def _register_once(
    request: Request,
    uploader: Uploader,
    origin: Origin,
    prepared: register.Prepared,
) -> Registered:
    """One try, in a transaction of its own: a retry starts from what the winner committed."""
    with transaction(request) as db:
        settings: Settings = request.app.state.settings
        return register.register_prepared(
            db,
            request.app.state.storage,
            prepared,
            uploader=uploader,
            origin=origin,
            new_visibility=Visibility(settings.default_visibility),
            limits=UploadLimits(
                files_per_minute=settings.upload_files_per_minute,
                new_projects_per_hour=settings.new_projects_per_hour,
            ),
        )


async def upload(request: Request) -> Response:
    form: FormData | None = None
    try:
        _check_declared_length(request)
        origin = client_origin(request)
        # Who is asking comes before the body is read: strangers get nothing buffered.
        try:
            uploader = await run_in_threadpool(_authenticate, request, origin)
        except _Refusal:
            await _discard_body(request)
            raise
        form = await _read_form(request)
        fields = _fields(form)
        _check_action(fields)
        incoming = _incoming(form, fields)
        return await run_in_threadpool(_register, request, uploader, origin, fields, incoming)
    except _Refusal as error:
        return refusal(error.status, error.message, error.headers)
    except UploadError as error:
        headers = None if error.retry_after is None else {"Retry-After": str(error.retry_after)}
        return refusal(error.status, error.message, headers)
    finally:
        if form is not None:
            await form.close()


routes: list[BaseRoute] = [
    Route("/legacy/", upload, methods=["POST"]),
    # twine takes the URL as typed; a redirect would make it stop (it refuses redirects).
    Route("/legacy", upload, methods=["POST"]),
]
