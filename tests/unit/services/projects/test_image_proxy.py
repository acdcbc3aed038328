"""The README image proxy's fences, against an image host on loopback."""

from __future__ import annotations

import socket

import pytest

from tests.helpers.image_server import PNG, ImageHost, image_host
from wheelyard.services.projects.image_proxy import ImageProxy, ImageRefused

IMAGE = (200, {"Content-Type": "image/png"}, PNG)


class LoopbackOnly(ImageProxy):
    """A proxy for which 127.0.0.1 (the test's image host) counts as public, and nothing
    else private does: the fences stay as they are for every other address."""

    def _address_allowed(self, address: str) -> bool:
        return address == "127.0.0.1" or super()._address_allowed(address)


@pytest.fixture
def host() -> ImageHost:
    with image_host(
        {
            "/a.png": IMAGE,
            "/page.html": (200, {"Content-Type": "text/html"}, b"<p>hi</p>"),
            "/big.png": (200, {"Content-Type": "image/png"}, b"x" * 5000),
            "/missing.png": (404, {}, b""),
            "/moved.png": (302, {"Location": "/a.png"}, b""),
            "/to-metadata.png": (302, {"Location": "http://169.254.169.254/latest/"}, b""),
            "/to-ftp.png": (302, {"Location": "ftp://files.example/a.png"}, b""),
            "/loop.png": (302, {"Location": "/loop.png"}, b""),
        }
    ) as server:
        yield server


def test_an_image_is_fetched_and_then_served_from_the_cache(host: ImageHost) -> None:
    proxy = ImageProxy(allow_private=True)

    image = proxy.fetch(host.url("/a.png"))
    again = proxy.fetch(host.url("/a.png"))

    assert image.content_type == "image/png"
    assert image.body == PNG
    assert again == image
    assert host.requests == ["/a.png"]


def test_loopback_and_private_hosts_are_refused_without_a_request(host: ImageHost) -> None:
    proxy = ImageProxy()

    with pytest.raises(ImageRefused, match="private or local network") as refused:
        proxy.fetch(host.url("/a.png"))

    assert refused.value.status == 403
    assert host.requests == []
    for url in ("http://10.0.0.1/x.png", "http://[::1]/x.png", "http://169.254.169.254/x"):
        with pytest.raises(ImageRefused, match="private or local network"):
            proxy.fetch(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address checked, not bound)
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_which_addresses_count_as_public(address: str, public: bool) -> None:
    assert ImageProxy()._address_allowed(address) is public


def test_a_redirect_is_followed_only_to_an_allowed_address(host: ImageHost) -> None:
    proxy = LoopbackOnly()

    assert proxy.fetch(host.url("/moved.png")).body == PNG
    with pytest.raises(ImageRefused, match="private or local network"):
        proxy.fetch(host.url("/to-metadata.png"))
    with pytest.raises(ImageRefused, match="Only http and https"):
        proxy.fetch(host.url("/to-ftp.png"))
    with pytest.raises(ImageRefused, match="redirects more than"):
        proxy.fetch(host.url("/loop.png"))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/page.html", r"not an image \(text/html\)"),
        ("/missing.png", "answered 404"),
        ("/big.png", "larger than 1,000 bytes"),
    ],
)
def test_what_is_not_a_small_image_is_refused(host: ImageHost, path: str, message: str) -> None:
    proxy = ImageProxy(allow_private=True, max_bytes=1000)

    with pytest.raises(ImageRefused, match=message):
        proxy.fetch(host.url(path))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://a.example/x.png",
        "file:///etc/passwd",
        "http://user:pw@a.example/x.png",
        "http://[::1",
    ],
)
def test_addresses_that_are_not_plain_http_are_refused(url: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        ImageProxy(allow_private=True).fetch(url)
    assert refused.value.status == 400


def test_a_host_that_does_not_answer_in_time_is_given_up() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection and never answers
    try:
        proxy = ImageProxy(allow_private=True, timeout=0.5)
        with pytest.raises(ImageRefused, match="did not answer in time"):
            proxy.fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/slow.png")
    finally:
        listener.close()


def test_the_cache_stays_within_its_bytes(host: ImageHost) -> None:
    host.answers["/b.png"] = IMAGE
    host.answers["/c.png"] = IMAGE
    proxy = ImageProxy(allow_private=True, cache_bytes=2 * len(PNG))

    for path in ("/a.png", "/b.png", "/c.png"):
        proxy.fetch(host.url(path))

    assert proxy.cached_bytes == 2 * len(PNG)
    proxy.fetch(host.url("/a.png"))  # the oldest went first
    assert host.requests.count("/a.png") == 2
