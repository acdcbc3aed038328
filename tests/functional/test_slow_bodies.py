"""A live server cuts request bodies that stall or trickle: 408 with ``Connection: close``.

Raw sockets, as a slow client sends: granian hands the body over as it arrives, the app's
timeout stops the handler, and the whole 408 must reach the client in time.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.helpers.environment import postgres_url
from tests.helpers.live_server import LiveServer, run_server

IDLE_SECONDS = 2
# Each byte earns the body 10 ms: a byte every half second falls behind at once.
MIN_RATE = 100
# Far past when the answer is due, so that a busy machine fails nothing; a hang still fails.
PATIENCE = 30.0
UPLOAD_HEAD = (
    b"POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "WHEELYARD_BODY_IDLE_SECONDS": str(IDLE_SECONDS),
        "WHEELYARD_BODY_MIN_RATE": str(MIN_RATE),
    }
    with run_server(tmp_path_factory.mktemp("slow-bodies"), postgres_url(), env=env) as server:
        yield server


def connect(server: LiveServer) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE)
    sock.sendall(UPLOAD_HEAD + b"--xyz\r\n")
    return sock


def read_answer(sock: socket.socket, deadline: float, trickle: bool = False) -> bytes:
    """The server's whole answer (its head, and a body as long as it says), or everything it
    sent before closing; with ``trickle``, a byte of body every half second meanwhile (a client
    that never pauses long enough for the idle limit).

    Whether the server then closes the connection is up to granian: it does so at once for a
    client that has gone quiet, but may go on reading a client that keeps sending, so the
    test asks for the answer, which is what frees the app.
    """
    received = b""
    sock.settimeout(0.5 if trickle else PATIENCE)
    while time.monotonic() < deadline:
        if _complete(received):
            return received
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            with contextlib.suppress(OSError):
                sock.sendall(b"x")
            continue
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"no whole answer within {PATIENCE}s: {received!r}")


def _complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def test_a_stalled_body_gets_408_and_connection_close(server: LiveServer) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer = read_answer(sock, started + PATIENCE)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert took >= IDLE_SECONDS - 0.5  # not before the limit


def test_a_trickling_body_gets_408_and_connection_close(server: LiveServer) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer = read_answer(sock, started + PATIENCE, trickle=True)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert took < PATIENCE / 2, took  # cut by the rate long before any idle pause


def test_the_server_goes_on_serving(server: LiveServer) -> None:
    with connect(server) as stalled:
        parts = urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE) as other:
            other.sendall(
                b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert read_answer(other, time.monotonic() + PATIENCE).startswith(b"HTTP/1.1 200 ")
        assert read_answer(stalled, time.monotonic() + PATIENCE).startswith(b"HTTP/1.1 408 ")
