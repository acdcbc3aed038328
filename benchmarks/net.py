"""Plain HTTP for the driver: fetching pages, waiting for servers, uploading files.

Only the standard library, so the driver runs from the project's virtualenv as it is.
Every address here is on loopback; nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from benchmarks import wheels


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 60.0,
) -> Reply:
    """One request on a fresh connection; redirects are returned, not followed."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"only plain http URLs are used here, not {url!r}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 60.0) -> Reply:
    return request("GET", url, headers=headers, timeout=timeout)


def free_port() -> int:
    """A TCP port nobody listens on now (another process could still take it first)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    """Poll ``url`` until it answers below 500; fail early if ``process`` died."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} while starting")
        try:
            if get(url, timeout=5).status < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")
        time.sleep(0.25)


def link_to(page_url: str, html: str, filename: str) -> str:
    """The absolute URL (fragment dropped) of the ``<a>`` naming ``filename`` on a simple page."""
    pattern = rf'<a\s[^>]*href="([^"]+)"[^>]*>\s*{re.escape(filename)}\s*</a>'
    found = re.search(pattern, html)
    if found is None:
        raise LookupError(f"{page_url} does not link {filename}")
    href: str = found.group(1).replace("&amp;", "&")
    return urljoin(page_url, href).split("#", 1)[0]


# --- uploads through the legacy API, as twine sends them ----------------------------------


def multipart(
    fields: Sequence[tuple[str, str]], filename: str, content: bytes
) -> tuple[str, bytes]:
    """A ``multipart/form-data`` body: the text fields, then the file as ``content``."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    )
    chunks.append(content)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks)


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def upload_wheel(url: str, path: Path, auth: Mapping[str, str]) -> int:
    """Upload one tiny wheel; returns the HTTP status. Its metadata is read off the filename."""
    name, version = path.name.split("-")[:2]
    content = path.read_bytes()
    fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.1"),
        ("name", name.replace("_", "-")),
        ("version", version),
        ("requires_python", wheels.REQUIRES_PYTHON),
        ("filetype", "bdist_wheel"),
        ("pyversion", "py3"),
        ("sha256_digest", hashlib.sha256(content).hexdigest()),
    ]
    content_type, body = multipart(fields, path.name, content)
    headers = {"Content-Type": content_type, **auth}
    return request("POST", url, headers=headers, body=body, timeout=300).status


@dataclass
class UploadReport:
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return self.statuses.get(200, 0) + self.statuses.get(201, 0)


def upload_all(
    url: str, paths: Iterable[Path], auth: Mapping[str, str], workers: int
) -> UploadReport:
    """Upload every wheel with ``workers`` requests in flight at a time."""
    report = UploadReport()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for status in pool.map(lambda path: upload_wheel(url, path, auth), paths):
            report.statuses[status] = report.statuses.get(status, 0) + 1
    report.seconds = time.perf_counter() - started
    return report
