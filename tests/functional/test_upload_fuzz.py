"""Ten thousand generated malformed uploads: each gets a 4xx with its reason; none changes a thing.

Every generated request carries at least one defect that must get it refused, and is
otherwise, as far as its kind allows, a valid upload of the kind twine sends: so the defect,
not some earlier problem, is what the server has to notice. The strategies are built so that
no example can turn into an acceptable upload by accident; were one accepted, its 200 fails
the test.

After every request the database (every row of every table the migrations made) and the
storage directory (every path, and the hash of every file) must be exactly as before.

The examples are fixed (``derandomize``), so CI runs the same ones every time, and a failure
prints the example and the defects it was built with. The suite runs on SQLite and again on
PostgreSQL, where each request costs more and fewer examples keep the run short (``_scaled``);
the last test checks that the requests were really sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import hashlib
import io
import re
import stat
import struct
import tarfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.clock import WallClock
from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.api import upload as upload_api
from wheelyard.config import Settings
from wheelyard.services import audit
from wheelyard.services.accounts import tokens
from wheelyard.services.uploads.metadata import KNOWN_METADATA_VERSIONS
from wheelyard.services.uploads.policy import MAX_DESCRIPTION_LENGTH

# --- how many ---------------------------------------------------------------------------------

MINIMUM_UPLOADS = 10_000
ON_POSTGRES = bool(postgres_url())
# Examples (one request each) per test on SQLite.
BUDGET = {
    "test_broken_multipart_bodies_are_refused": 1400,
    "test_missing_and_duplicated_fields_are_refused": 1400,
    "test_wrong_digests_are_refused": 900,
    "test_hostile_filenames_are_refused": 1300,
    "test_hostile_archives_are_refused": 1700,
    "test_garbage_metadata_is_refused": 1300,
    "test_oversized_fields_are_refused": 700,
    "test_names_and_versions_that_disagree_are_refused": 900,
    "test_malformed_credentials_are_refused": 400,
}
# A request and the dump after it take several PostgreSQL round trips each; every strategy
# still runs there, with fewer examples.
POSTGRES_SHARE = 0.7
SENT: Counter[str] = Counter()


def _scaled(test: str) -> int:
    examples = BUDGET[test]
    return max(1, int(examples * POSTGRES_SHARE)) if ON_POSTGRES else examples


def fuzz(test: str) -> settings:
    return settings(
        max_examples=_scaled(test),
        deadline=None,
        derandomize=True,
        database=None,
        # One app, client and rolled-back transaction serve all of a test's examples on
        # purpose: each example must leave them exactly as it found them. And the examples
        # are big and slow by design (archives, bombs, thousands of fields); the count of
        # requests sent, checked at the end, is what shows that they all ran.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


# --- what is uploaded -------------------------------------------------------------------------

# Every authenticated request stamps the token's last_used; with the clock pinned the stamp
# is the same before and after, so the database compares equal to the byte.
PINNED_NOW = dt.datetime(2024, 6, 1, 12, 0, 0)
BOUNDARY = b"wheelyard-fuzz-5f0c2d7e91ab"
MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY
WHEEL_TYPE = "bdist_wheel"
SDIST_TYPE = "sdist"

SEED = Project("tiny-lib", "1.0")  # on the index before fuzzing, for uploads to collide with
FUZZ = Project("fuzz-lib", "1.0", summary="What the generated uploads claim to be")
FUZZ_METADATA = FUZZ.core_metadata().encode()
FUZZ_ROOT = "fuzz_lib-1.0"
FUZZ_DIST_INFO = "fuzz_lib-1.0.dist-info"
WHEEL_NAME = "fuzz_lib-1.0-py3-none-any.whl"
SDIST_NAME = "fuzz_lib-1.0.tar.gz"
ZIP_SDIST_NAME = "fuzz_lib-1.0.zip"


@dataclass(frozen=True)
class Part:
    """One multipart part; ``name`` None leaves the name out of its Content-Disposition."""

    name: bytes | None
    value: bytes
    filename: bytes | None = None

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        # Failing examples are printed: long values would bury what differs.
        value = self.value
        if len(value) > 80:
            value = value[:50] + b"..." + value[-20:]
        filename = "" if self.filename is None else f", filename={self.filename[:300]!r}"
        printer.text(f"Part({self.name!r}, {value!r} [{len(self.value)} bytes]{filename})")


Form = tuple[Part, ...]


def _quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def encode(parts: Sequence[Part]) -> bytes:
    chunks = []
    for part in parts:
        disposition = b"form-data"
        if part.name is not None:
            disposition += b"; name=" + _quoted(part.name)
        headers = b""
        if part.filename is not None:
            disposition += b"; filename=" + _quoted(part.filename)
            headers = b"Content-Type: application/octet-stream\r\n"
        chunks += [b"--", BOUNDARY, b"\r\nContent-Disposition: ", disposition, b"\r\n"]
        chunks += [headers, b"\r\n", part.value, b"\r\n"]
    chunks += [b"--", BOUNDARY, b"--\r\n"]
    return b"".join(chunks)


def field(name: str, value: str) -> Part:
    return Part(name.encode(), value.encode())


DIGEST_FIELDS = ("md5_digest", "sha256_digest", "blake2_256_digest")


def digests(content: bytes) -> dict[str, str]:
    return {
        "md5_digest": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }


def upload_form(
    content: bytes, filename: str | bytes, project: Project = FUZZ, *, digested: bool = True
) -> Form:
    """What twine sends to upload ``content`` as ``filename`` of ``project``."""
    name = filename if isinstance(filename, bytes) else filename.encode()
    is_wheel = name.endswith(b".whl")
    return (
        field(":action", "file_upload"),
        field("protocol_version", "1"),
        field("metadata_version", project.metadata_version),
        field("name", project.name),
        field("version", project.version),
        field("summary", project.summary),
        field("author", "Test Author"),
        field("author_email", "author@example.com"),
        field("description", project.description),
        field("description_content_type", project.description_content_type),
        field("filetype", WHEEL_TYPE if is_wheel else SDIST_TYPE),
        field("pyversion", "py3" if is_wheel else "source"),
        *(field(key, value) for key, value in digests(content).items() if digested),
        Part(b"content", content, name),
    )


def dist_form(dist: Dist, project: Project = FUZZ) -> Form:
    return upload_form(dist.content, dist.filename, project)


def replaced(form: Form, name: str, *values: str) -> Form:
    """``form`` with every ``name`` field dropped and ``values`` sent instead."""
    kept = tuple(part for part in form if part.name != name.encode())
    return kept + tuple(field(name, value) for value in values)


WHEEL = wheel(FUZZ)
SDIST = sdist(FUZZ)
assert (WHEEL.filename, SDIST.filename) == (WHEEL_NAME, SDIST_NAME)


# --- archives, assembled member by member so that any part can be broken ----------------------


@dataclass(frozen=True)
class ZipMember:
    name: str
    data: bytes
    mode: int | None = None  # Unix mode bits, as a Unix zip tool records them


def _zip_info(member: ZipMember) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member.name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    if member.mode is not None:
        info.create_system = 3
        info.external_attr = member.mode << 16
    return info


@functools.lru_cache(maxsize=8)
def _zeros_zip(size: int) -> bytes:
    """A zip holding only ``size`` zero bytes, compressed once and reused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_zip_info(ZipMember(ZEROS_MEMBER, b"")), bytes(size))
    return buffer.getvalue()


ZEROS_MEMBER = "fuzz_lib/zeros.bin"


def zip_archive(members: Sequence[ZipMember], zeros: int = 0) -> bytes:
    """The members zipped, after ``zeros`` zero bytes in a member of their own (when asked)."""
    buffer = io.BytesIO(_zeros_zip(zeros) if zeros else b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names, made on purpose
        with zipfile.ZipFile(buffer, "a" if zeros else "w", zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                archive.writestr(_zip_info(member), member.data)
    return buffer.getvalue()


def wheel_members(
    metadata: bytes = FUZZ_METADATA, dist_info: str = FUZZ_DIST_INFO
) -> list[ZipMember]:
    return [
        ZipMember("fuzz_lib/__init__.py", b'__version__ = "1.0"\n'),
        ZipMember(f"{dist_info}/METADATA", metadata),
        ZipMember(f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        ZipMember(f"{dist_info}/RECORD", b""),
    ]


def zip_sdist_members(metadata: bytes = FUZZ_METADATA) -> list[ZipMember]:
    return [
        ZipMember(f"{FUZZ_ROOT}/PKG-INFO", metadata),
        ZipMember(f"{FUZZ_ROOT}/setup.py", b"from setuptools import setup\nsetup()\n"),
        ZipMember(f"{FUZZ_ROOT}/fuzz_lib/__init__.py", b""),
    ]


# The central directory, where zip readers learn every member's name, sizes and flags.
_END = struct.Struct("<4s4H2LH")
_ENTRY = struct.Struct("<4s6H3L5H2L")


def _directory(archive: bytes) -> tuple[bytes, list[bytearray]]:
    """(what precedes the central directory, its entries) of an archive zip_archive made."""
    *_, count, _size, offset, _comment = _END.unpack_from(archive, len(archive) - _END.size)
    entries, position = [], offset
    for _ in range(count):
        fields = _ENTRY.unpack_from(archive, position)
        length = _ENTRY.size + fields[10] + fields[11] + fields[12]
        entries.append(bytearray(archive[position : position + length]))
        position += length
    return archive[:offset], entries


def _with_directory(head: bytes, entries: Sequence[bytes]) -> bytes:
    directory = b"".join(entries)
    end = _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(head), 0)
    return head + directory + end


def claim_size(archive: bytes, index: int, size: int) -> bytes:
    """Member ``index`` claims to unpack to ``size`` bytes."""
    head, entries = _directory(archive)
    struct.pack_into("<L", entries[index % len(entries)], 24, size)
    return _with_directory(head, entries)


def overlap(archive: bytes, index: int, copies: int) -> bytes:
    """A non-recursive zip bomb: ``copies`` more entries, under new names, for one member's data."""
    head, entries = _directory(archive)
    original = entries[index % len(entries)]
    name_length = _ENTRY.unpack_from(original)[10]
    rest = bytes(original[_ENTRY.size + name_length :])
    for number in range(copies):
        name = f"fuzz_lib/copy{number}.bin".encode()
        fixed = bytearray(original[: _ENTRY.size])
        struct.pack_into("<H", fixed, 28, len(name))
        entries.append(bytes(fixed) + name + rest)
    return _with_directory(head, entries)


def mark(archive: bytes, index: int, *, flags: int = 0, method: int | None = None) -> bytes:
    """Member ``index`` flagged (bit 0: encrypted) or given another compression method."""
    head, entries = _directory(archive)
    entry = entries[index % len(entries)]
    old_flags, old_method = struct.unpack_from("<2H", entry, 8)
    struct.pack_into("<2H", entry, 8, old_flags | flags, old_method if method is None else method)
    return _with_directory(head, entries)


@dataclass(frozen=True)
class TarMember:
    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    linkname: str = ""


def tar_bytes(members: Sequence[TarMember], *, closed: bool = True) -> bytes:
    """A tar of ``members``; unless ``closed``, without its end-of-archive marker."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type, info.linkname, info.mtime = member.kind, member.linkname, 1704067200
            info.size = len(member.data) if member.kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(member.data) if info.size else None)
        head = buffer.getvalue()  # closing adds the end-of-archive marker
    return buffer.getvalue() if closed else head


@functools.lru_cache(maxsize=8)
def _gzipped_zeros(size: int) -> bytes:
    return gzip.compress(bytes(size), mtime=0)


def tar_gz(members: Sequence[TarMember], *, bomb: int = 0, trailing: int = 0) -> bytes:
    """A gzipped tar, perhaps with a member of ``bomb`` zeros, or ``trailing`` zeros after it.

    Zeros are compressed once and reused: gzip readers read concatenated gzip streams as
    one, and a bomb member's data, its padding and the end-of-archive marker are all zeros.
    """
    if not bomb:
        return gzip.compress(tar_bytes(members), mtime=0) + (
            _gzipped_zeros(trailing) if trailing else b""
        )
    info = tarfile.TarInfo(f"{FUZZ_ROOT}/zeros.bin")
    info.size, info.mtime = bomb, 1704067200
    head = tar_bytes(members, closed=False) + info.tobuf(tarfile.PAX_FORMAT)
    padded = -(-bomb // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
    return gzip.compress(head, mtime=0) + _gzipped_zeros(padded + 2 * tarfile.BLOCKSIZE)


def sdist_members(metadata: bytes = FUZZ_METADATA, root: str = FUZZ_ROOT) -> list[TarMember]:
    return [
        TarMember(f"{root}/PKG-INFO", metadata),
        TarMember(f"{root}/setup.py", b"from setuptools import setup\nsetup()\n"),
        TarMember(f"{root}/fuzz_lib/__init__.py", b""),
    ]


# --- the index, and the state that must not change --------------------------------------------

Snapshot = tuple[dict[str, list[tuple[object, ...]]], dict[str, str]]


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str


def _token_use_left_out(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Every request Ada's token authenticates records its use in the audit trail, refused
    or not (the token's owner sees each use); what else a refused upload leaves is compared."""
    if table.name != "audit":
        return []
    return [table.c.action != audit.Action.TOKEN_USED.value]


class Index:
    """The app under test, its database and storage, and what they held before fuzzing.

    Requests go to the app as ASGI messages, through the test client's own event loop:
    the test client's HTTP layer costs about as much as the app's whole refusal, and ten
    thousand requests pay for it ten thousand times.
    """

    def __init__(
        self,
        client: TestClient,
        app: Starlette,
        db: Session,
        storage_root: Path,
        auth: Mapping[str, bytes],
    ) -> None:
        self.client = client
        self.app = app
        self.db = db
        self.storage_root = storage_root
        self.auth = dict(auth)
        # Every table the migrations made, mapped or not, read with plain SQL on the test's
        # own connection, which sees what the app's sessions committed.
        connection = db.connection()
        reflected = sa.MetaData()
        reflected.reflect(bind=connection)
        self.queries = {
            table.name: str(
                sa.select(table)
                .where(*_token_use_left_out(table))
                .order_by(*(table.primary_key.columns or table.columns))
                .compile(connection, compile_kwargs={"literal_binds": True})
            )
            for table in reflected.sorted_tables
        }
        self.audit_action = list(reflected.tables["audit"].columns.keys()).index("action")
        self.before = self.snapshot()

    def rows(self) -> dict[str, list[tuple[object, ...]]]:
        cursor = self.db.connection().connection.cursor()
        try:
            dump = {}
            for name, query in self.queries.items():
                cursor.execute(query)
                dump[name] = [tuple(row) for row in cursor.fetchall()]
            return dump
        finally:
            cursor.close()

    def files(self) -> dict[str, str]:
        """Every path under the storage directory: folders, and temporary files too."""
        listing = {}
        if self.storage_root.exists():
            for path in sorted(self.storage_root.rglob("*")):
                name = path.relative_to(self.storage_root).as_posix()
                if path.is_dir():
                    listing[name + "/"] = "folder"
                else:
                    listing[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return listing

    def snapshot(self) -> Snapshot:
        return self.rows(), self.files()

    def post(
        self,
        test: str,
        body: bytes,
        content_type: bytes = MULTIPART,
        authorization: Mapping[str, bytes] | None = None,
        chunk: int = 65536,
    ) -> Answer:
        """One request, counted, its body arriving ``chunk`` bytes at a time.

        ``authorization`` replaces Ada's token when given.
        """
        SENT[test] += 1
        headers = {b"host": b"testserver", b"user-agent": b"fuzz", b"content-type": content_type}
        headers[b"content-length"] = str(len(body)).encode()
        for name, value in (self.auth if authorization is None else authorization).items():
            headers[name.lower().encode()] = value
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/legacy/",
            "raw_path": b"/legacy/",
            "query_string": b"",
            "root_path": "",
            "headers": list(headers.items()),
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "extensions": {},
            "state": dict(self.client.app_state),
        }
        pieces = [body[start : start + chunk] for start in range(0, len(body), chunk)]

        async def exchange() -> Answer:
            answered = anyio.Event()
            waiting = list(reversed(pieces or [b""]))
            status, sent = 0, []

            async def receive() -> dict[str, Any]:
                if waiting:
                    piece = waiting.pop()
                    return {"type": "http.request", "body": piece, "more_body": bool(waiting)}
                await answered.wait()  # a client that sent everything hangs up once answered
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                elif message["type"] == "http.response.body":
                    sent.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        answered.set()

            # An exception the app does not turn into an answer reaches the test (a 500).
            await self.app(scope, receive, send)
            return Answer(status, b"".join(sent).decode("utf-8", "replace"))

        assert self.client.portal is not None  # the client fixture runs it as a context
        return self.client.portal.call(exchange)

    def refuses(
        self, test: str, body: bytes, content_type: bytes = MULTIPART, chunk: int = 65536
    ) -> str:
        """Post; the answer must be a 4xx with a reason, and nothing may have changed."""
        answer = self.post(test, body, content_type, chunk=chunk)
        assert_refused(answer)
        assert self.snapshot() == self.before
        return answer.text

    def refuses_form(self, test: str, form: Sequence[Part]) -> str:
        return self.refuses(test, encode(form))


def assert_refused(answer: Answer) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    reason = answer.text.strip()
    assert sum(c.isalpha() for c in reason) >= 10, f"{answer.status_code} with no reason"


def basic(username: str | bytes, password: str | bytes) -> dict[str, bytes]:
    raw = (username if isinstance(username, bytes) else username.encode()) + b":"
    raw += password if isinstance(password, bytes) else password.encode()
    return {"Authorization": b"Basic " + base64.b64encode(raw)}


@pytest.fixture
def index(
    client: TestClient,
    app: Starlette,
    db: Session,
    make: Factory,
    settings: Settings,
    frozen_clock: WallClock,
) -> Index:
    """Ada owns tiny-lib 1.0 and uploads with an API token; the rest is up to the examples."""
    frozen_clock.set(PINNED_NOW)
    ada = make.user(name="Ada", email="ada@example.com", password=PASSWORD)
    _token, secret = tokens.create_token(db, ada, description="fuzzing")
    db.flush()
    auth = basic("__token__", secret)
    seed = wheel(SEED)
    response = client.post(
        "/legacy/",
        content=encode(dist_form(seed, SEED)),
        headers={"Content-Type": MULTIPART, **auth},
    )
    assert response.status_code == 200, response.text
    return Index(client, app, db, settings.storage_path, auth)


# --- what every strategy starts from is a good upload -----------------------------------------

UNBROKEN = {
    "wheel": dist_form(WHEEL),
    "sdist": dist_form(SDIST),
    "assembled wheel": upload_form(zip_archive(wheel_members()), WHEEL_NAME),
    "assembled sdist": upload_form(tar_gz(sdist_members()), SDIST_NAME),
    "wheel with harmless extras": upload_form(
        zip_archive(
            [
                *wheel_members(),
                ZipMember("fuzz_lib/", b"", stat.S_IFDIR | 0o755),
                ZipMember("fuzz_lib/tool.py", b"#!/usr/bin/env python\n", stat.S_IFREG | 0o755),
            ]
        ),
        WHEEL_NAME,
    ),
    "sdist with a link inside": upload_form(
        tar_gz(
            [
                *sdist_members(),
                TarMember(f"{FUZZ_ROOT}/link", kind=tarfile.SYMTYPE, linkname="setup.py"),
            ]
        ),
        SDIST_NAME,
    ),
}


@pytest.mark.parametrize("kind", UNBROKEN)
def test_the_unbroken_uploads_are_accepted(index: Index, kind: str) -> None:
    """Each strategy below breaks one of these; unbroken, each is accepted."""
    response = index.post("unbroken", encode(UNBROKEN[kind]))
    assert response.status_code == 200, response.text


def test_a_zip_sdist_is_refused_whole_or_broken(index: Index) -> None:
    """PEP 625: an sdist is a .tar.gz, refused by its name before its archive is read (the
    zip sdist reader stays for imports of old folders)."""
    form = upload_form(zip_archive(zip_sdist_members()), ZIP_SDIST_NAME)
    assert "an sdist is a .tar.gz" in index.refuses_form("zip sdist", form)


# --- 1. broken multipart bodies ---------------------------------------------------------------

# Refused even where the damage leaves the body readable: no digest fits the file.
_NO_DIGEST_FITS = encode(
    tuple(
        Part(part.name, b"0" * len(part.value))
        if part.name in {name.encode() for name in DIGEST_FIELDS}
        else part
        for part in dist_form(WHEEL)
    )
)
CHARSETS = (
    "utf-8", "latin-1", "utf-16", "utf-32", "utf-7", "idna", "punycode", "undefined", "rot13",
    "hex", "base64", "zlib", "uu", "nonsense", "",
)  # fmt: skip


@st.composite
def content_types(draw: st.DrawFn) -> bytes:
    mime = draw(
        st.sampled_from(
            (b"multipart/form-data", b"MULTIPART/FORM-DATA", b"multipart/mixed", b"multipart/")
        )
    )
    params = []
    if draw(st.booleans()):
        boundary = draw(
            st.one_of(
                st.sampled_from((BOUNDARY, b'"' + BOUNDARY + b'"', b"", BOUNDARY + b"x")),
                st.binary(max_size=80),
            )
        )
        params.append(b"boundary=" + boundary)
    if draw(st.booleans()):
        params.append(b"charset=" + draw(st.sampled_from(CHARSETS)).encode())
    params += draw(st.lists(st.binary(min_size=1, max_size=20), max_size=2))
    header = b"; ".join([mime, *params])
    # What a client can put in a header at all: no line breaks, no NUL.
    return bytes(c for c in header if c not in b"\r\n\0")


@st.composite
def mangled(draw: st.DrawFn, body: bytes) -> bytes:
    """``body`` cut, spliced, repeated and flipped at generated places."""
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("cut", "insert", "delete", "flip", "repeat", "newlines")))
        if action == "cut":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(
                st.one_of(
                    st.binary(max_size=64),
                    st.sampled_from(
                        (b"\r\n", b"--" + BOUNDARY, b"--" + BOUNDARY + b"--", b"\r\n\r\n", b'"')
                    ),
                )
            )
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 200))]
        elif action == "flip" and position < len(data):
            data[position] ^= draw(st.integers(1, 255))
        elif action == "repeat":
            data[position:position] = data[position : position + draw(st.integers(1, 400))]
        elif action == "newlines":
            data = bytearray(data.replace(b"\r\n", b"\n"))
    return bytes(data)


_PIECES = (
    b"--" + BOUNDARY,
    b"--" + BOUNDARY + b"--",
    b"\r\n",
    b'Content-Disposition: form-data; name="content"; filename="x.whl"',
    b'Content-Disposition: form-data; name=":action"',
    b"file_upload",
    b"--",
)


@fuzz("test_broken_multipart_bodies_are_refused")
@given(
    body=st.one_of(
        mangled(_NO_DIGEST_FITS),
        st.binary(max_size=2000),
        st.lists(st.sampled_from(_PIECES), max_size=30).map(b"".join),
    ),
    content_type=st.one_of(st.just(MULTIPART), content_types()),
    chunk=st.sampled_from((16, 500, 65536)),
)
@example(body=b"", content_type=MULTIPART, chunk=65536)
@example(body=_NO_DIGEST_FITS[:-40], content_type=MULTIPART, chunk=16)  # cut inside the file
@example(body=_NO_DIGEST_FITS, content_type=MULTIPART + b"; charset=undefined", chunk=65536)
@example(body=_NO_DIGEST_FITS, content_type=MULTIPART + b"; charset=punycode", chunk=65536)
def test_broken_multipart_bodies_are_refused(
    index: Index, body: bytes, content_type: bytes, chunk: int
) -> None:
    index.refuses("test_broken_multipart_bodies_are_refused", body, content_type, chunk)


# --- 2. missing and duplicated fields ---------------------------------------------------------


def _wrong_hex(length: int) -> st.SearchStrategy[str]:
    # An all-zero digest fits no content; random ones are as good as certain not to.
    return st.one_of(
        st.just("0" * length),
        st.text(alphabet="0123456789abcdef", min_size=length, max_size=length),
    )


def _bad_first(is_wheel: bool) -> dict[str, st.SearchStrategy[str]]:
    """Values that fail the upload when sent before the good one (the first one counts)."""
    return {
        ":action": st.sampled_from(("submit", "doc_upload", "remove_pkg", "FILE_UPLOAD", " ")),
        "protocol_version": st.sampled_from(("2", "0", "one", "1.0")),
        "metadata_version": st.sampled_from(("9.9", "0", "3.0", "1.3")),
        "name": st.sampled_from(("other-lib", "fuzz-lib2", "tiny-lib", "fuzz lib", "-fuzz")),
        "version": st.sampled_from(("2.0", "1.0.1", "1.0a1", "one", "1.0-final-final")),
        "filetype": st.sampled_from((SDIST_TYPE if is_wheel else WHEEL_TYPE, "bdist_egg")),
        "pyversion": st.sampled_from(("py3", "cp311", "any")),  # wrong for an sdist only
        "md5_digest": _wrong_hex(32),
        "sha256_digest": _wrong_hex(64),
        "blake2_256_digest": _wrong_hex(64),
    }


# Strategies made once: each new strategy object costs Hypothesis some bookkeeping.
_BAD_FIRST = {is_wheel: _bad_first(is_wheel) for is_wheel in (True, False)}


_REQUIRED = (":action", "metadata_version", "name", "version", "filetype")
_DECIDED_BY_THE_FIRST = (
    ":action", "protocol_version", "metadata_version", "name", "version", "filetype",
    *DIGEST_FIELDS,
)  # fmt: skip
_OPTIONAL = (
    "protocol_version", "summary", "author", "author_email", "description",
    "description_content_type", "md5_digest", "sha256_digest",
)  # fmt: skip
Change = Callable[[list[Part]], list[Part]]


@st.composite
def fatal_change(draw: st.DrawFn, is_wheel: bool) -> Change:
    """A change that gets the form refused, whatever other changes come before or after."""
    kinds = (
        "drop", "drop digests", "drop file", "bad first", "bad last file", "file as field",
        "too many files", "nameless part", "empty filename",
        *(("drop pyversion",) if is_wheel else ()),
    )  # fmt: skip
    kind = draw(st.sampled_from(kinds))
    note(f"fatal: {kind}")
    if kind == "drop":
        name = draw(st.sampled_from(_REQUIRED)).encode()
        return lambda parts: [part for part in parts if part.name != name]
    if kind == "drop pyversion":
        return lambda parts: [part for part in parts if part.name != b"pyversion"]
    if kind == "drop digests":
        names = {name.encode() for name in DIGEST_FIELDS}
        return lambda parts: [part for part in parts if part.name not in names]
    if kind == "drop file":
        return lambda parts: [part for part in parts if part.name != b"content"]
    if kind == "bad first":
        name = draw(st.sampled_from(_DECIDED_BY_THE_FIRST + (() if is_wheel else ("pyversion",))))
        bad = field(name, draw(_BAD_FIRST[is_wheel][name]))
        return lambda parts: [bad, *parts]
    if kind == "bad last file":
        # Of several parts with one name the form keeps the last: this one.
        garbage = Part(b"content", draw(st.binary(max_size=300)), WHEEL_NAME.encode())
        return lambda parts: [*parts, garbage]
    if kind == "file as field":
        return lambda parts: [
            Part(b"content", part.value) if part.name == b"content" else part for part in parts
        ]
    if kind == "too many files":
        extra = [Part(b"gpg_signature", b"signature", b"sig.asc")] * (upload_api.MAX_FILES + 1)
        return lambda parts: [*parts, *extra]
    if kind == "nameless part":
        nameless = Part(None, draw(st.binary(max_size=50)), draw(st.sampled_from((None, b"x"))))
        return lambda parts: [*parts[:1], nameless, *parts[1:]]
    return lambda parts: [
        replace(part, filename=b"") if part.name == b"content" else part for part in parts
    ]


@st.composite
def harmless_change(draw: st.DrawFn) -> Change:
    """Noise a client might make; it never decides the answer."""
    kind = draw(st.sampled_from(("extra field", "same again", "drop optional", "shuffle")))
    if kind == "extra field":
        extra = field("x_" + draw(st.text(max_size=20)), draw(st.text(max_size=50)))
        return lambda parts: [*parts, extra]
    if kind == "same again":
        position = draw(st.integers(0, 50))
        return lambda parts: [*parts, parts[position % len(parts)]]
    if kind == "drop optional":
        name = draw(st.sampled_from(_OPTIONAL)).encode()
        return lambda parts: [part for part in parts if part.name != name]
    order = draw(st.randoms(use_true_random=False))
    return lambda parts: order.sample(parts, len(parts))


_NOISE = st.lists(harmless_change(), max_size=3)
_FATAL = {
    is_wheel: st.lists(fatal_change(is_wheel), min_size=1, max_size=3) for is_wheel in (True, False)
}


@st.composite
def forms_missing_or_repeating_fields(draw: st.DrawFn) -> Form:
    dist = draw(st.sampled_from((WHEEL, SDIST)))
    noise = draw(_NOISE)
    fatal = draw(_FATAL[dist is WHEEL])
    parts = list(dist_form(dist))
    # The noise first: shuffled or repeated afterwards, a bad first value might not stay first.
    for change in noise + fatal:
        parts = change(parts)
    return tuple(parts)


@fuzz("test_missing_and_duplicated_fields_are_refused")
@given(form=forms_missing_or_repeating_fields())
def test_missing_and_duplicated_fields_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_missing_and_duplicated_fields_are_refused", form)


# --- 3. wrong digests -------------------------------------------------------------------------


_WRONG_HEX = {length: _wrong_hex(length) for length in (32, 64)}
_NON_ZERO_NIBBLE = st.integers(1, 15)


@st.composite
def wrong_digest(draw: st.DrawFn, right: str) -> str:
    """A value that does not vouch for the file (the right one in upper case would)."""
    length = len(right)
    kind = draw(st.sampled_from(("random", "one off", "other file", "length", "not hex", "padded")))
    note(f"digest: {kind}")
    if kind == "random":
        value = draw(_WRONG_HEX[length])
        # Equal to the right digest only by a miracle, and then no longer.
        return value if value != right else ("1" if value[0] == "0" else "0") + value[1:]
    position = draw(st.integers(0, length - 1))
    if kind == "one off":
        other = f"{(int(right[position], 16) + draw(_NON_ZERO_NIBBLE)) % 16:x}"
        return right[:position] + other + right[position + 1 :]
    if kind == "other file":
        other = digests(draw(st.binary(max_size=100)))
        if length == 32:
            return other["md5_digest"]
        return other[draw(st.sampled_from(("sha256_digest", "blake2_256_digest")))]
    if kind == "length":
        return draw(st.sampled_from((right[:-1], right + "0", right * 2, right[: length // 2])))
    if kind == "not hex":
        bad = draw(st.sampled_from(("g", "z", "-", "+", "=", "\u0660", "\uff10")))
        return right[:position] + bad + right[position + 1 :]
    return draw(st.sampled_from((" " + right, right + "\n", right + " ", "\t" + right)))


@st.composite
def forms_with_wrong_digests(draw: st.DrawFn) -> Form:
    dist = draw(st.sampled_from((WHEEL, SDIST)))
    right = digests(dist.content)
    content = dist.content
    sent: dict[str, str] = {}
    if draw(st.booleans()):
        # The client's digests are right for what it meant to send; other bytes arrived.
        sent = {name: value for name, value in right.items() if draw(st.booleans())} or right
        position = draw(st.integers(0, len(content) - 1))
        flipped = bytes([content[position] ^ draw(st.integers(1, 255))])
        content = draw(
            st.sampled_from(
                (
                    content[:position],
                    content[:position] + b"\0" + content[position:],
                    content + draw(st.binary(min_size=1, max_size=10)),
                    content[:position] + flipped + content[position + 1 :],
                )
            )
        )
    else:
        wrong = draw(st.sets(st.sampled_from(DIGEST_FIELDS), min_size=1))
        for name, value in right.items():
            if name in wrong:
                sent[name] = draw(wrong_digest(value))
            elif draw(st.booleans()):
                sent[name] = value
    form = upload_form(content, dist.filename, digested=False)
    return (*form, *(field(name, value) for name, value in sent.items()))


@fuzz("test_wrong_digests_are_refused")
@given(form=forms_with_wrong_digests())
def test_wrong_digests_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_wrong_digests_are_refused", form)


# --- 4. hostile filenames ---------------------------------------------------------------------

CONFUSABLES = {
    "a": "\u0430\u0251\uff41",
    "e": "\u0435\u212e",
    "i": "\u0456\u0131\u2170",
    "l": "\u04cf\u2113\u0406",
    "o": "\u043e\u03bf\u0585",
    "p": "\u0440\u03c1",
    "y": "\u0443",
    "n": "\u0578",
    "u": "\u057d\u03c5",
    "w": "\u0461\u051d",
    "h": "\u04bb",
    ".": "\uff0e\u2024\u3002\u0701",
    "-": "\u2010\u2011\u2212\ufe63\uff0d",
    "_": "\uff3f\u02cd",
    "1": "\u0661\uff11\U0001d7cf",
    "0": "\u0660\uff10",
}
# Zero-width, joiners, soft hyphen, right-to-left override, a combining accent, no-break space.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u0301\u00a0"


def _windows_path(name: str) -> bool:
    # The multipart parser keeps only the last part of "C:\dir\file" and "\\host\dir\file"
    # (old browsers sent whole paths): such a name arrives as a plain filename.
    return name[1:3] == ":\\" or name.startswith("\\\\")


@st.composite
def hostile_filename(draw: st.DrawFn, valid: str) -> str:
    kind = draw(
        st.sampled_from(
            ("absolute", "parent", "nul", "control", "long", "confusable", "empty", "odd")
        )
    )
    note(f"filename: {kind}")
    position = draw(st.integers(0, len(valid)))
    if kind == "absolute":
        prefix = draw(
            st.sampled_from(("/", "/tmp/", "//host/share/", "/var/lib/wheelyard/files/", "\\"))
        )
        return prefix + valid
    if kind == "parent":
        return draw(
            st.sampled_from(
                ("..", "../" + valid, "../../" + valid, "fuzz_lib/../" + valid, valid + "/..",
                 "..\\" + valid, ".." + valid, "./" + valid, "." + valid, "....//" + valid,
                 "%2e%2e%2f" + valid, "..%2f" + valid, "..%c0%af" + valid)
            )
        )  # fmt: skip
    if kind == "nul":
        return draw(st.sampled_from((valid[:position] + "\0" + valid[position:], valid + "\0.txt")))
    if kind == "control":
        control = draw(st.sampled_from(tuple(chr(c) for c in [*range(1, 32), 127, 0x85, 0x9B])))
        return valid[:position] + control + valid[position:]
    if kind == "long":
        # Well formed and saying what the short name says, only too long.
        length = draw(st.integers(256, 3000))
        if valid.endswith(".whl"):
            tags = ".".join(["py3"] * ((length - 26) // 4 + 1))
            return f"fuzz_lib-1.0-{tags}-none-any.whl"
        return valid.replace("-1.0", "-1.0" + "0" * (length - len(valid)), 1)
    if kind == "confusable":
        name = list(valid)
        for _ in range(draw(st.integers(1, 3))):
            spot = draw(st.integers(0, len(name) - 1))
            lookalikes = CONFUSABLES.get(valid[spot], "")
            if lookalikes and draw(st.booleans()):
                name[spot] = draw(st.sampled_from(lookalikes))
            else:
                name[spot] = draw(st.sampled_from(INVISIBLE)) + valid[spot]
        return "".join(name)
    if kind == "empty":
        return draw(st.sampled_from(("", ".", " ", ".whl", ".tar.gz", "-.whl", "fuzz_lib")))
    return draw(
        st.sampled_from(
            (valid + " ", " " + valid, valid + ".", valid.upper(), valid + ".exe",
             valid.replace("-", "--", 1), "file:" + valid, valid.replace("fuzz_lib", "fuzz-lib"))
        )
    )  # fmt: skip


_HOSTILE_FILENAMES = {
    valid: hostile_filename(valid).filter(lambda name: not _windows_path(name))
    for valid in (WHEEL_NAME, SDIST_NAME)
}


@st.composite
def forms_with_hostile_filenames(draw: st.DrawFn) -> Form:
    dist = draw(st.sampled_from((WHEEL, SDIST)))
    name = draw(_HOSTILE_FILENAMES[dist.filename])
    return upload_form(dist.content, name.encode())


@fuzz("test_hostile_filenames_are_refused")
@given(form=forms_with_hostile_filenames())
def test_hostile_filenames_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_hostile_filenames_are_refused", form)


# --- 5. hostile archives ----------------------------------------------------------------------

# Past the unpacked size below which a small archive's ratio is not judged (4 MiB).
BOMB_SIZES = st.sampled_from((4 * 2**20 + 4096, 5 * 2**20, 6 * 2**20))
LINK_TARGETS = ("/etc/passwd", "../../x", "fuzz_lib/__init__.py")


@st.composite
def garbage_metadata(draw: st.DrawFn) -> bytes:
    """Core metadata that does not say "fuzz-lib 1.0", broken in one of many ways."""
    kind = draw(st.sampled_from(("bytes", "text", "other", "missing", "repeated", "undecodable")))
    note(f"metadata: {kind}")
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")
    lines = [b"Metadata-Version: " + draw(st.sampled_from((b"2.1", b"9.9", b"", b"\xff")))]
    name, version = b"Name: fuzz-lib", b"Version: 1.0"
    if kind == "other":
        which = draw(st.sampled_from(("name", "version", "both")))
        if which != "version":
            name = b"Name: " + draw(st.sampled_from((b"other-lib", b"fuzz-lib2", b"tiny-lib", b"")))
        if which != "name":
            version = b"Version: " + draw(st.sampled_from((b"2.0", b"1.0.1", b"one", b"", b"1a")))
        lines += [name, version]
    elif kind == "missing":
        lines.append(draw(st.sampled_from((name, version))))
    elif kind == "repeated":
        lines += [name, version, draw(st.sampled_from((b"Name: other-lib", b"Version: 2.0")))]
    else:
        broken = draw(st.sampled_from((b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80")))
        lines += [name + broken, version]
    junk = draw(st.lists(st.binary(max_size=40), max_size=4))
    order = draw(st.permutations(lines + junk))
    return b"\n".join(order) + b"\n\n" + draw(st.binary(max_size=100))


_GARBAGE_METADATA = garbage_metadata()
ZIP_DEFECTS = (
    "traversal", "absolute", "symlink", "device", "duplicate", "bomb", "no metadata",
    "garbage metadata", "two metadata", "empty name", "lying size", "overlap",
    "encrypted metadata", "unknown compression", "truncated",
)  # fmt: skip


@st.composite
def zip_with_defects(draw: st.DrawFn, is_wheel: bool) -> bytes:
    metadata_name = f"{FUZZ_DIST_INFO}/METADATA" if is_wheel else f"{FUZZ_ROOT}/PKG-INFO"
    members = wheel_members() if is_wheel else zip_sdist_members()
    defects = draw(st.lists(st.sampled_from(ZIP_DEFECTS), min_size=1, max_size=3, unique=True))
    note(f"zip defects: {defects}")
    zeros = 0
    for defect in defects:
        if defect == "traversal":
            name = draw(st.sampled_from(("../evil.py", "fuzz_lib/../../evil.py", "..\\..\\e.py")))
            members.append(ZipMember(name, b"evil"))
        elif defect == "absolute":
            name = draw(st.sampled_from(("/etc/evil", "\\windows\\evil", "C:/evil", "c:\\evil")))
            members.append(ZipMember(name, b"evil"))
        elif defect == "symlink":
            target = draw(st.sampled_from(LINK_TARGETS)).encode()
            members.append(ZipMember("fuzz_lib/link", target, stat.S_IFLNK | 0o777))
        elif defect == "device":
            kind = draw(st.sampled_from((stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK)))
            members.append(ZipMember("fuzz_lib/device", b"", kind | 0o644))
        elif defect == "duplicate":
            copied = draw(st.sampled_from(tuple(member.name for member in members)))
            members.append(ZipMember(copied, draw(st.binary(max_size=50))))
        elif defect == "bomb":
            zeros = draw(BOMB_SIZES)
        elif defect == "no metadata":
            members = [member for member in members if member.name != metadata_name]
        elif defect == "garbage metadata":
            garbage = draw(_GARBAGE_METADATA)
            members = [
                replace(member, data=garbage) if member.name == metadata_name else member
                for member in members
            ]
        elif defect == "two metadata":
            if is_wheel:  # more METADATA files that also belong to this wheel's name
                members += [
                    ZipMember("Fuzz_Lib-1.0.dist-info/METADATA", FUZZ_METADATA),
                    ZipMember("fuzz.lib-1.0.dist-info/METADATA", FUZZ_METADATA),
                ]
            else:  # two candidate folders, neither the one the filename names
                members += [
                    ZipMember("fuzz_lib-1.0a/PKG-INFO", FUZZ_METADATA),
                    ZipMember("fuzz_lib-1.0b/PKG-INFO", FUZZ_METADATA),
                ]
                members = [member for member in members if member.name != metadata_name]
        elif defect == "empty name":
            members.append(ZipMember(draw(st.sampled_from(("", "/"))), b"x"))
        elif defect == "overlap":
            zeros = zeros or 2**20  # overlapped five times or more, it passes the limit
    archive = zip_archive(members, zeros)
    names = [info.filename for info in zipfile.ZipFile(io.BytesIO(archive)).infolist()]
    metadata_index = names.index(metadata_name) if metadata_name in names else 0
    for defect in defects:
        if defect == "lying size":
            claimed = draw(st.integers(5 * 2**20, 2**32 - 1))
            archive = claim_size(archive, draw(st.integers(0, 100)), claimed)
        elif defect == "overlap":
            archive = overlap(archive, 0, draw(st.integers(5, 40)))
        elif defect == "encrypted metadata":
            archive = mark(archive, metadata_index, flags=1)
        elif defect == "unknown compression":
            archive = mark(archive, metadata_index, method=draw(st.sampled_from((1, 6, 97, 99))))
    if "truncated" in defects:
        archive = archive[: draw(st.integers(0, len(archive) - 1))]
    return archive


TAR_DEFECTS = (
    "traversal", "absolute", "symlink out", "hardlink out", "device", "no metadata",
    "garbage metadata", "two metadata", "bomb", "trailing bomb", "truncated", "not gzip",
    "bad crc", "not tar",
)  # fmt: skip


@st.composite
def tar_gz_with_defects(draw: st.DrawFn) -> bytes:
    metadata_name = f"{FUZZ_ROOT}/PKG-INFO"
    members = sdist_members()
    defects = draw(st.lists(st.sampled_from(TAR_DEFECTS), min_size=1, max_size=3, unique=True))
    note(f"tar.gz defects: {defects}")
    bomb = trailing = 0
    for defect in defects:
        if defect == "traversal":
            name = draw(st.sampled_from(("../evil.py", f"{FUZZ_ROOT}/../../evil.py")))
            members.append(TarMember(name, b"evil"))
        elif defect == "absolute":
            members.append(TarMember(draw(st.sampled_from(("/etc/evil", "/tmp/x"))), b"evil"))
        elif defect == "symlink out":
            target = draw(st.sampled_from(("/etc/passwd", "../../etc/passwd", "../..", "/")))
            members.append(TarMember(f"{FUZZ_ROOT}/link", kind=tarfile.SYMTYPE, linkname=target))
        elif defect == "hardlink out":
            target = draw(st.sampled_from(("/etc/passwd", "../x", f"{FUZZ_ROOT}/../../x")))
            members.append(TarMember(f"{FUZZ_ROOT}/hard", kind=tarfile.LNKTYPE, linkname=target))
        elif defect == "device":
            kind = draw(st.sampled_from((tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)))
            members.append(TarMember(f"{FUZZ_ROOT}/device", kind=kind))
        elif defect == "no metadata":
            members = [member for member in members if member.name != metadata_name]
        elif defect == "garbage metadata":
            garbage = draw(_GARBAGE_METADATA)
            members = [
                replace(member, data=garbage) if member.name == metadata_name else member
                for member in members
            ]
        elif defect == "two metadata":
            members = [member for member in members if member.name != metadata_name]
            members += [
                TarMember("fuzz_lib-1.0a/PKG-INFO", FUZZ_METADATA),
                TarMember("fuzz_lib-1.0b/PKG-INFO", FUZZ_METADATA),
            ]
        elif defect == "bomb":
            bomb = draw(BOMB_SIZES)
        elif defect == "trailing bomb":
            # Past the end-of-archive marker, where a reader that stops there never looks.
            trailing = draw(BOMB_SIZES)
    if "not tar" in defects:
        archive = gzip.compress(draw(st.binary(max_size=2000)), mtime=0)
    elif "not gzip" in defects:
        archive = tar_bytes(members)
    else:
        archive = tar_gz(members, bomb=bomb, trailing=trailing)
    if "bad crc" in defects:
        position = len(archive) - draw(st.integers(1, 8))  # the CRC-32 and length at the end
        archive = archive[:position] + bytes([archive[position] ^ 0xFF]) + archive[position + 1 :]
    if "truncated" in defects:
        archive = archive[: draw(st.integers(0, len(archive) - 1))]
    return archive


_BROKEN_ZIPS = {is_wheel: zip_with_defects(is_wheel) for is_wheel in (True, False)}
_BROKEN_TARBALLS = tar_gz_with_defects()


@st.composite
def forms_with_hostile_archives(draw: st.DrawFn) -> Form:
    kind = draw(st.sampled_from(("wheel", "zip sdist", "tar.gz sdist", "no archive at all")))
    if kind == "wheel":
        return upload_form(draw(_BROKEN_ZIPS[True]), WHEEL_NAME)
    if kind == "zip sdist":
        return upload_form(draw(_BROKEN_ZIPS[False]), ZIP_SDIST_NAME)
    if kind == "tar.gz sdist":
        return upload_form(draw(_BROKEN_TARBALLS), SDIST_NAME)
    filename = draw(st.sampled_from((WHEEL_NAME, SDIST_NAME, ZIP_SDIST_NAME)))
    return upload_form(draw(st.binary(max_size=3000)), filename)


@fuzz("test_hostile_archives_are_refused")
@given(form=forms_with_hostile_archives())
def test_hostile_archives_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_hostile_archives_are_refused", form)


# --- 6. garbage metadata in the form ----------------------------------------------------------


def _unparsable(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def unparsable(value: str) -> bool:
        try:
            parse(value)
        except Exception:
            return True
        return False

    return unparsable


def _with_nul(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(text, text).map("\0".join)


_TEXT = st.text(max_size=40)
_NOT_BLANK = _TEXT.filter(str.strip)
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)

# field -> (values that get the upload refused, whether the field is a list one may add to)
GARBAGE: dict[str, tuple[st.SearchStrategy[str], bool]] = {
    "metadata_version": (_TEXT.filter(lambda v: v not in KNOWN_METADATA_VERSIONS), False),
    "name": (_TEXT.filter(lambda v: _VALID_NAME.match(v) is None), False),
    "version": (_TEXT.filter(_unparsable(Version)), False),
    "requires_python": (_NOT_BLANK.filter(_unparsable(SpecifierSet)), False),
    "requires_dist": (_NOT_BLANK.filter(_unparsable(Requirement)), True),
    "provides_extra": (
        _NOT_BLANK.filter(_unparsable(lambda v: canonicalize_name(v.strip(), validate=True))),
        True,
    ),
    "classifiers": (_TEXT.map(lambda v: "Invented :: " + v), True),
    "description_content_type": (_TEXT.map(lambda v: "$" + v), False),
    "summary": (st.tuples(_TEXT, _TEXT).map("\n".join), False),
    "dynamic": (st.sampled_from(("Name", "Version", "Metadata-Version", "Nonsense", "x y")), True),
    "license_expression": (_TEXT.map(lambda v: "$" + v), False),
    "project_urls": (
        st.one_of(
            _TEXT.filter(lambda v: "," not in v),  # no label
            _TEXT.map(lambda v: " ," + v),  # an empty label
            st.sampled_from(("Home,", "Home, ", "Home,\t")),  # no URL
        ),
        True,
    ),
    # Free text, stored as sent: PostgreSQL cannot hold a NUL, so none may carry one.
    "description": (_with_nul(_TEXT), False),
    "author": (_with_nul(_TEXT), False),
    "author_email": (_with_nul(_TEXT), False),
    "maintainer": (_with_nul(_TEXT), False),
    "keywords": (_with_nul(_TEXT), False),
    "license": (_with_nul(_TEXT), False),
    "home_page": (_with_nul(_TEXT), False),
    "download_url": (_with_nul(_TEXT), False),
    "comment": (_with_nul(_TEXT), False),
    "platform": (_with_nul(_TEXT), True),
}


_NOT_SOURCE = _TEXT.filter(lambda v: v not in ("", "source"))
_NOT_A_FILETYPE = _TEXT.filter(lambda v: v not in (WHEEL_TYPE, SDIST_TYPE))


@st.composite
def forms_with_garbage_metadata(draw: st.DrawFn) -> Form:
    dist = draw(st.sampled_from((WHEEL, SDIST)))
    form = dist_form(dist)
    broken = draw(
        st.lists(st.sampled_from(tuple(sorted(GARBAGE))), min_size=1, max_size=3, unique=True)
    )
    note(f"garbage in: {broken}")
    for name in broken:
        values, is_list = GARBAGE[name]
        garbage = draw(values)
        form = (*form, field(name, garbage)) if is_list else replaced(form, name, garbage)
    if dist is SDIST and draw(st.booleans()):
        form = replaced(form, "pyversion", draw(_NOT_SOURCE))
    elif draw(st.booleans()):
        form = replaced(form, "filetype", draw(_NOT_A_FILETYPE))
    return form


@fuzz("test_garbage_metadata_is_refused")
@given(form=forms_with_garbage_metadata())
def test_garbage_metadata_is_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_garbage_metadata_is_refused", form)


# --- 7. oversized fields ----------------------------------------------------------------------


def _longer_than(limit: int, make: Callable[[int], str]) -> st.SearchStrategy[str]:
    return st.integers(limit + 1, limit * 3).map(make)


# Each value is valid but for its length.
OVERSIZED: dict[str, st.SearchStrategy[str]] = {
    "summary": _longer_than(512, lambda n: "s" * n),
    "description_content_type": _longer_than(128, lambda n: "text/plain; x=" + "a" * n),
    "home_page": _longer_than(1024, lambda n: "https://example.com/" + "a" * n),
    "download_url": _longer_than(1024, lambda n: "https://example.com/" + "a" * n),
    "author": _longer_than(512, lambda n: "A" * n),
    "author_email": _longer_than(512, lambda n: "a" * n + "@example.com"),
    "maintainer": _longer_than(512, lambda n: "M" * n),
    "maintainer_email": _longer_than(512, lambda n: "m" * n + "@example.com"),
    "requires_python": _longer_than(256, lambda n: ",".join([">=3.8"] * (n // 6 + 1))),
    "keywords": _longer_than(1024, lambda n: ",".join(["kw"] * (n // 3 + 1))),
    "name": _longer_than(200, lambda n: "f" * n),
    # Equal to 1.0 under PEP 440, so that only its length is wrong.
    "version": _longer_than(100, lambda n: "1" + ".0" * (n // 2 + 1)),
    "project_urls": st.one_of(
        _longer_than(32, lambda n: "L" * n + ", https://example.com"),
        _longer_than(1024, lambda n: "Home, https://example.com/" + "a" * n),
    ),
    "pyversion": _longer_than(64, lambda n: "py3" + "x" * n),
}


@st.composite
def forms_with_oversized_fields(draw: st.DrawFn) -> Form:
    form = dist_form(WHEEL)
    name = draw(st.sampled_from((*sorted(OVERSIZED), "too many fields")))
    note(f"oversized: {name}")
    if name == "too many fields":
        count = upload_api.MAX_FIELDS + draw(st.integers(1, 50))
        return (*form, *(field(f"x{number}", "x") for number in range(count)))
    return replaced(form, name, draw(OVERSIZED[name]))


@fuzz("test_oversized_fields_are_refused")
@given(form=forms_with_oversized_fields())
def test_oversized_fields_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_oversized_fields_are_refused", form)


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        (MAX_DESCRIPTION_LENGTH + 1, "Invalid value for description"),
        (upload_api.MAX_FIELD_SIZE + 1, "Invalid multipart form: Part exceeded maximum size"),
    ],
    ids=["description", "form part"],
)
def test_the_largest_fields_are_refused(index: Index, length: int, reason: str) -> None:
    """Too large to send by the thousand: once each, just past the real limits."""
    form = replaced(dist_form(WHEEL), "description", "d" * length)
    assert index.refuses_form("test_the_largest_fields_are_refused", form).startswith(reason)


# --- 8. names and versions that disagree ------------------------------------------------------

OTHER_NAMES = ("fuzz-lab", "fuzzlib", "fuzz-lib-extra", "tiny-lib", "other")
# None equals 1.0 under PEP 440 ("1.0.0" would).
OTHER_VERSIONS = ("1.1", "2.0", "1.0.1", "0.9", "1.0a1", "1.0.post1", "1.0.dev0", "10")


def _escaped(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@st.composite
def forms_that_disagree(draw: st.DrawFn) -> Form:
    """Form, filename and archive, of which one or two name another project or version."""
    sources = ("form", "filename", "archive")
    said = {source: {"name": FUZZ.name, "version": FUZZ.version} for source in sources}
    attribute = draw(st.sampled_from(("name", "version")))
    # One or two sources say otherwise, so that the three never all agree.
    for source in draw(st.sets(st.sampled_from(sources), min_size=1, max_size=2)):
        others = OTHER_NAMES if attribute == "name" else OTHER_VERSIONS
        said[source][attribute] = draw(st.sampled_from(others))
    # The other attribute may differ as well, in any source.
    second = "version" if attribute == "name" else "name"
    for source in draw(st.sets(st.sampled_from(sources))):
        others = OTHER_NAMES if second == "name" else OTHER_VERSIONS
        said[source][second] = draw(st.sampled_from(others))
    note(f"said: {said}")

    form_project = replace(FUZZ, **said["form"])
    inside = replace(FUZZ, **said["archive"])
    stem = f"{_escaped(said['filename']['name'])}-{said['filename']['version']}"
    metadata = inside.core_metadata().encode()
    if draw(st.booleans()):
        # The dist-info folder follows the filename, or the metadata inside, as builders do.
        folder = draw(st.sampled_from((stem, f"{_escaped(inside.name)}-{inside.version}")))
        content = zip_archive(wheel_members(metadata, f"{folder}.dist-info"))
        return upload_form(content, f"{stem}-py3-none-any.whl", form_project)
    content = tar_gz(sdist_members(metadata, root=stem))
    return upload_form(content, f"{stem}.tar.gz", form_project)


@fuzz("test_names_and_versions_that_disagree_are_refused")
@given(form=forms_that_disagree())
def test_names_and_versions_that_disagree_are_refused(index: Index, form: Form) -> None:
    index.refuses_form("test_names_and_versions_that_disagree_are_refused", form)


# --- 9. malformed credentials -----------------------------------------------------------------

_GOOD_BODY = encode(dist_form(WHEEL))


@st.composite
def malformed_authorization(draw: st.DrawFn) -> dict[str, bytes]:
    kind = draw(
        st.sampled_from(
            ("none", "scheme", "not base64", "no colon", "not utf-8", "wrong token", "too long",
             "nul")
        )
    )  # fmt: skip
    note(f"credentials: {kind}")
    secret = draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    if kind == "none":
        return {}
    if kind == "scheme":
        scheme = draw(st.sampled_from((b"Bearer", b"Digest", b"Token", b"Basic", b"")))
        return {"Authorization": scheme + b" " + base64.b64encode(b"__token__" + secret)}
    if kind == "not base64":
        garbage = draw(st.text(alphabet="!@#$%^&*()=?<>~`", min_size=1, max_size=40))
        return {"Authorization": b"Basic " + garbage.encode()}
    if kind == "no colon":
        return {"Authorization": b"Basic " + base64.b64encode(b"__token__" + secret)}
    if kind == "not utf-8":
        return basic("__token__", draw(st.binary(max_size=40)) + b"\xff\xfe")
    if kind == "wrong token":
        prefix = draw(st.sampled_from((tokens.PREFIX.encode(), b"", b"pypi-")))
        return basic("__token__", prefix + secret)
    if kind == "too long":
        return basic("__token__", b"x" * draw(st.integers(3100, 6000)))
    # A NUL, which no database column can hold, in the username or the password.
    username = draw(st.sampled_from(("__token__", "ada@example.com", "a\0@example.com", "\0")))
    if "\0" in username:
        return basic(username, secret)
    return basic(username, secret + b"\0" + secret)


@fuzz("test_malformed_credentials_are_refused")
@given(authorization=malformed_authorization())
def test_malformed_credentials_are_refused(index: Index, authorization: dict[str, bytes]) -> None:
    """The body is a good upload; only who sends it is in doubt."""
    test = "test_malformed_credentials_are_refused"
    assert_refused(index.post(test, _GOOD_BODY, authorization=authorization))
    rows, files = index.snapshot()
    before_rows, before_files = index.before
    assert files == before_files
    # A wrong password is recorded on purpose (the rate limits count those rows); nothing
    # else may appear.
    events, before_events = rows.pop("audit"), before_rows["audit"]
    assert events[: len(before_events)] == before_events
    added = {row[index.audit_action] for row in events[len(before_events) :]}
    assert added <= {audit.Action.LOGIN_FAILED}
    assert rows == {name: table for name, table in before_rows.items() if name != "audit"}


# --- what the fuzzing found, kept as plain cases ----------------------------------------------

_WHEEL_BODY = encode(dist_form(WHEEL))
FOUND: dict[str, tuple[bytes, bytes, dict[str, bytes] | None, str]] = {
    # body, Content-Type, credentials (None: Ada's token), the start of the answer
    "a charset whose codec fails otherwise": (
        _WHEEL_BODY,
        MULTIPART + b"; charset=undefined",
        None,
        "Invalid multipart form: its charset cannot decode it.",
    ),
    "a body cut off inside the file": (
        _WHEEL_BODY[:-40],
        MULTIPART,
        None,
        "The upload was cut off before it was complete.",
    ),
    "a NUL in the username": (
        _WHEEL_BODY,
        MULTIPART,
        basic("a\0@example.com", PASSWORD),
        "Invalid or non-existent authentication information.",
    ),
    "a NUL in the description": (
        encode(replaced(dist_form(WHEEL), "description", "Tiny\0")),
        MULTIPART,
        None,
        "Invalid value for description. Error: Null bytes are not allowed.",
    ),
    "a NUL in the comment": (
        encode((*dist_form(WHEEL), field("comment", "\0"))),
        MULTIPART,
        None,
        "Invalid value for comment. Error: Null bytes are not allowed.",
    ),
    "a pyversion longer than its column": (
        encode(replaced(dist_form(WHEEL), "pyversion", "py3." * 20)),
        MULTIPART,
        None,
        "Invalid value for pyversion. Error: Use at most 64 characters.",
    ),
    "a symbolic link in a zip": (
        encode(
            upload_form(
                zip_archive(
                    [*wheel_members(), ZipMember("fuzz_lib/x", b"/etc", stat.S_IFLNK | 0o777)]
                ),
                WHEEL_NAME,
            )
        ),
        MULTIPART,
        None,
        "Invalid distribution file. The archive member 'fuzz_lib/x' is a symbolic link.",
    ),
    "a zip member twice": (
        encode(
            upload_form(
                zip_archive([*wheel_members(), ZipMember("fuzz_lib/__init__.py", b"evil()\n")]),
                WHEEL_NAME,
            )
        ),
        MULTIPART,
        None,
        "Invalid distribution file. The archive has more than one member named "
        "'fuzz_lib/__init__.py'.",
    ),
    "a gzip bomb after the end of the tar": (
        encode(upload_form(tar_gz(sdist_members(), trailing=5 * 2**20), SDIST_NAME)),
        MULTIPART,
        None,
        "Invalid distribution file. The archive unpacks to more than",
    ),
}


@pytest.mark.parametrize("case", FOUND)
def test_what_the_fuzzing_found_stays_refused(index: Index, case: str) -> None:
    """Each of these got a 500, or was accepted, before it was fixed."""
    body, content_type, authorization, reason = FOUND[case]
    answer = index.post("found", body, content_type, authorization)
    assert_refused(answer)
    assert answer.text.startswith(reason), answer.text
    assert index.snapshot() == index.before


# --- the count --------------------------------------------------------------------------------


def test_at_least_ten_thousand_malformed_uploads_were_sent() -> None:
    """The examples really ran: this counts requests sent, not what the settings asked for."""
    missing = sorted(set(BUDGET) - set(SENT))
    if missing:
        pytest.skip(f"counts only when the whole module runs; not run: {missing}")
    for test in BUDGET:
        assert SENT[test] >= _scaled(test), (test, SENT[test])
    total = sum(SENT[test] for test in BUDGET)
    assert total >= (sum(map(_scaled, BUDGET)) if ON_POSTGRES else MINIMUM_UPLOADS), total
