"""Upstream indexes on loopback for the pull-through cache's tests: a second wheelyard with
uploads, and a static PEP 503 tree served by ``python -m http.server``."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.dists import Dist
from tests.helpers.live_server import LiveServer, free_port, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import post_upload

SERVER_SCRIPT = Path(__file__).with_name("static_index_server.py")


def uploader_token(server: LiveServer, email: str, *, admin: bool = False) -> str:
    """A new user's upload token on the server (a site admin's with ``admin``)."""
    login = ("--email", email, "--password", PASSWORD)
    wheelyard_cli(server, "user", "create", "--name", email, *login, *(["--admin"] * admin))
    return wheelyard_cli(server, "token", "create", "--email", email).strip().splitlines()[-1]


def seed(server: LiveServer, dists: Sequence[Dist], email: str = "up@example.com") -> None:
    """Upload ``dists`` to the server as a new site admin."""
    token = uploader_token(server, email, admin=True)
    for dist in dists:
        status, text = post_upload(server.url, dist, "__token__", token)
        assert status == 200, text


def write_static_tree(root: Path, project_id: str, dists: Sequence[Dist]) -> None:
    """``root/simple/<project_id>/index.html`` (PEP 503) linking ``root/files/<dist>``."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    links = []
    for dist in dists:
        (files / dist.filename).write_bytes(dist.content)
        links.append(
            f'<a href="../../files/{dist.filename}#sha256={dist.sha256}">{dist.filename}</a><br>'
        )
    page = root / "simple" / project_id
    page.mkdir(parents=True, exist_ok=True)
    (page / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
    )


def write_json_tree(root: Path, project_id: str, dists: Sequence[tuple[Dist, str | None]]) -> None:
    """``root/simple/<project_id>/index.json`` (PEP 691) listing ``root/files/<dist>`` with
    each dist's upload time (None: the page gives none), and each wheel's core metadata."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    for dist, uploaded in dists:
        (files / dist.filename).write_bytes(dist.content)
        entry = {
            "filename": dist.filename,
            "url": f"../../files/{dist.filename}",
            "hashes": {"sha256": dist.sha256},
            "size": len(dist.content),
        }
        if uploaded is not None:
            entry["upload-time"] = uploaded
        if dist.filename.endswith(".whl"):
            # PEP 658: the wheel's METADATA beside it.
            metadata = dist.metadata.encode()
            (files / f"{dist.filename}.metadata").write_bytes(metadata)
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
        entries.append(entry)
    page = root / "simple" / project_id
    page.mkdir(parents=True, exist_ok=True)
    document = {"meta": {"api-version": "1.1"}, "name": project_id, "files": entries}
    (page / "index.json").write_text(json.dumps(document))


@contextmanager
def static_index(root: Path, log: Path | None = None) -> Iterator[str]:
    """``root`` served over HTTP on loopback; yields the URL of its ``simple/``. The server
    logs each request it answers into ``log``, so a test can count them. Project pages are
    ``index.html`` (write_static_tree) or ``index.json`` (write_json_tree)."""
    port = free_port()
    log_file = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-u", str(SERVER_SCRIPT), str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url + "simple/"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if log is not None and not isinstance(log_file, int):
            log_file.close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that takes connections and never answers: an upstream slower than any timeout.
    Yields its index URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"


def closed_port_url() -> str:
    """An index URL on a port nothing listens on: an upstream that is down."""
    return f"http://127.0.0.1:{free_port()}/simple/"
