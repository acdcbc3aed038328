"""Fetching a README's external image for the page that shows it (WHEELYARD_README_IMAGES=proxy).

The index fetches on behalf of anyone who can make a README, so the fetch is fenced in:
only http and https; only hosts whose every address is public (no loopback, private,
link-local, multicast or reserved addresses, unless the index is told its READMEs may point
at private hosts); the connection goes to the address that was checked, not to a second
lookup that could answer differently (DNS rebinding); redirects are followed by hand, a few
at most, each target checked the same way; the answer must be 200 with an ``image/*`` type
and at most ``max_bytes`` long, and come within ``timeout`` seconds. What was fetched is
kept in a cache bounded in bytes, so a popular page asks each host once an hour, not once per
reader.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx2

MAX_IMAGE_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
CACHE_BYTES = 32 * 1024 * 1024
CACHE_SECONDS = 3600
USER_AGENT = "wheelyard (README image proxy)"
_REDIRECTS = {301, 302, 303, 307, 308}


class ImageRefused(Exception):
    """The image is not fetched; ``status`` is the answer the proxy gives instead."""

    def __init__(self, reason: str, status: int = 502) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Image:
    content_type: str
    body: bytes


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` has (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ImageRefused(f"The image's host {host} cannot be found.") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class _Target:
    url: str
    host: str
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        ip = self.address if ":" not in self.address else f"[{self.address}]"
        return urlunsplit((parts.scheme, f"{ip}:{self.port}", parts.path or "/", parts.query, ""))


class ImageProxy:
    """Fetches README images within the limits above; one per server process."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_IMAGE_BYTES,
        cache_bytes: int = CACHE_BYTES,
        cache_seconds: int = CACHE_SECONDS,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache_bytes = cache_bytes
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, Image]] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    # --- the cache -------------------------------------------------------------------------

    def _cached(self, url: str) -> Image | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            fetched, image = entry
            if time.monotonic() - fetched > self.cache_seconds:
                self._forget(url)
                return None
            self._cache.move_to_end(url)
            return image

    def _forget(self, url: str) -> None:
        _fetched, image = self._cache.pop(url)
        self._cached_bytes -= len(image.body)

    def _keep(self, url: str, image: Image) -> None:
        if len(image.body) > self.cache_bytes:
            return
        with self._lock:
            if url in self._cache:
                self._forget(url)
            self._cache[url] = (time.monotonic(), image)
            self._cached_bytes += len(image.body)
            while self._cached_bytes > self.cache_bytes:
                self._forget(next(iter(self._cache)))

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    # --- fetching --------------------------------------------------------------------------

    def _address_allowed(self, address: str) -> bool:
        return self.allow_private or _is_public(address)

    def _target(self, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise ImageRefused("The image's address is not a valid URL.", 400) from error
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImageRefused("Only http and https images are fetched.", 400)
        if parts.username is not None or parts.password is not None:
            raise ImageRefused("Image addresses with credentials are not fetched.", 400)
        host = parts.hostname
        addresses = resolve(host, port)
        if not addresses:
            raise ImageRefused(f"The image's host {host} cannot be found.")
        if not all(self._address_allowed(address) for address in addresses):
            raise ImageRefused(
                f"The image's host {host} is on a private or local network; "
                "this index fetches images only from public hosts.",
                403,
            )
        return _Target(url=url, host=host, port=port, address=addresses[0])

    def fetch(self, url: str) -> Image:
        """The image at ``url``, from the cache or fetched now; ImageRefused if it cannot be."""
        cached = self._cached(url)
        if cached is not None:
            return cached
        deadline = time.monotonic() + self.timeout
        with httpx2.Client(timeout=self.timeout, follow_redirects=False) as http:
            current = url
            for _hop in range(MAX_REDIRECTS + 1):
                target = self._target(current)
                answer = self._ask(http, target, deadline)
                if isinstance(answer, Image):
                    self._keep(url, answer)
                    return answer
                current = urljoin(current, answer)
        raise ImageRefused(f"The image's address redirects more than {MAX_REDIRECTS} times.")

    def _ask(self, http: httpx2.Client, target: _Target, deadline: float) -> Image | str:
        """The image, or the URL a redirect points to."""
        port = "" if target.port in {80, 443} else f":{target.port}"
        headers = {"Host": f"{target.host}{port}", "User-Agent": USER_AGENT, "Accept": "image/*"}
        try:
            with http.stream(
                "GET",
                target.pinned_url(),
                headers=headers,
                # The certificate is checked against the host name, not the address.
                extensions={"sni_hostname": target.host},
            ) as response:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise ImageRefused("The image's host redirects nowhere.")
                    return location
                if response.status_code != 200:
                    raise ImageRefused(f"The image's host answered {response.status_code}.")
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                if not content_type.lower().startswith("image/"):
                    raise ImageRefused(
                        f"The address is not an image ({content_type or 'no type'})."
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise ImageRefused(f"The image is larger than {self.max_bytes:,} bytes.")
                return Image(content_type.lower(), self._read(response, deadline))
        except httpx2.TimeoutException as error:
            raise ImageRefused("The image's host did not answer in time.", 504) from error
        except httpx2.HTTPError as error:
            raise ImageRefused(
                f"The image could not be fetched ({type(error).__name__})."
            ) from error

    def _read(self, response: httpx2.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_bytes:
                raise ImageRefused(f"The image is larger than {self.max_bytes:,} bytes.")
            # A host trickling bytes cannot hold the fetch past its time.
            if time.monotonic() > deadline:
                raise ImageRefused("The image's host did not answer in time.", 504)
            chunks.append(chunk)
        return b"".join(chunks)
