"""A live server cuts request bodies that stall or trickle: 408, then the connection closes.

Raw sockets, as a slow client sends: granian hands the body over as it arrives, the app's
timeout stops the handler, and the 408 must reach the client before the server hangs up.
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


def read_until_closed(sock: socket.socket, deadline: float, trickle: bool = False) -> bytes:
    """Everything the server sends until it closes; with ``trickle``, a byte of body every half
    second meanwhile (a client that never pauses long enough for the idle limit)."""
    received = b""
    sock.settimeout(0.5 if trickle else PATIENCE)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            # Already closed on the server's side, perhaps: the answer is read next.
            with contextlib.suppress(OSError):
                sock.sendall(b"x")
            continue
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection was still open after {PATIENCE}s: {received!r}")


def test_a_stalled_body_gets_408_and_the_connection_closes(server: LiveServer) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer = read_until_closed(sock, started + PATIENCE)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert took >= IDLE_SECONDS - 0.5  # not before the limit


def test_a_trickling_body_gets_408_and_the_connection_closes(server: LiveServer) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer = read_until_closed(sock, started + PATIENCE, trickle=True)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_the_server_goes_on_serving(server: LiveServer) -> None:
    with connect(server) as stalled:
        parts = urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE) as other:
            other.sendall(
                b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert read_until_closed(other, time.monotonic() + PATIENCE).startswith(
                b"HTTP/1.1 200 "
            )
        assert read_until_closed(stalled, time.monotonic() + PATIENCE).startswith(b"HTTP/1.1 408 ")
