"""External README images proxied, dropped or left as they are."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from wheelyard.services.projects import readme
from wheelyard.services.projects.readme_images import (
    PROXY_PATH,
    ImageSigner,
    is_external,
    parse_mode,
    rewrite,
)

SIGNER = ImageSigner("test-secret")
README = (
    "# Title &amp; more\n\n"
    "![badge](https://img.shields.io/badge/x.svg) "
    '<img src="http://pixel.example/t.gif?u=1&amp;p=2" alt="A &gt; b" width="10">\n\n'
    "![local](docs/shot.png) ![relative](//cdn.example/r.png)\n\n"
    "```python\nprint('<img src=\"https://x.example/a.png\">')\n```\n"
)


@pytest.fixture
def html() -> str:
    return readme.render(README, "text/markdown")


def test_direct_leaves_the_html_as_rendered(html: str) -> None:
    assert rewrite(html, "direct", SIGNER) == html


def test_proxy_points_external_images_at_the_signed_proxy(html: str) -> None:
    proxied = rewrite(html, "proxy", SIGNER)

    sources = [part.split('"', 1)[0] for part in proxied.split('<img src="')[1:]]
    assert len(sources) == 4
    external = [src.replace("&amp;", "&") for src in sources if src.startswith(PROXY_PATH)]
    assert len(external) == 3
    urls = []
    for src in external:
        params = parse_qs(urlsplit(src).query)
        (url,), (signature,) = params["url"], params["sig"]
        assert SIGNER.verify(url, signature)
        urls.append(url)
    assert urls == [
        "https://img.shields.io/badge/x.svg",
        "http://pixel.example/t.gif?u=1&p=2",
        # Scheme-relative: the browser would have asked that host too.
        "https://cdn.example/r.png",
    ]
    # The rest of each tag, and of the page, unchanged.
    assert 'alt="A &gt; b" width="10"' in proxied
    assert 'src="docs/shot.png"' in proxied
    assert proxied.split("<pre", 1)[1] == html.split("<pre", 1)[1]
    assert "Title &amp; more" in proxied


def test_off_drops_external_images_and_keeps_their_alt_text(html: str) -> None:
    dropped = rewrite(html, "off", SIGNER)

    assert "shields.io" not in dropped.split("<pre", 1)[0]
    assert "pixel.example" not in dropped
    assert "cdn.example" not in dropped
    assert '<span class="readme-image-dropped">badge</span>' in dropped
    assert '<span class="readme-image-dropped">A &gt; b</span>' in dropped
    # A relative image asks this site only: kept.
    assert 'src="docs/shot.png"' in dropped


def test_signatures_depend_on_the_url_and_the_key() -> None:
    signature = SIGNER.sign("https://a.example/x.png")
    assert SIGNER.verify("https://a.example/x.png", signature)
    assert not SIGNER.verify("https://a.example/y.png", signature)
    assert not ImageSigner("another-secret").verify("https://a.example/x.png", signature)
    assert not SIGNER.verify("https://a.example/x.png", "0" * len(signature))


@pytest.mark.parametrize(
    ("src", "external"),
    [
        ("https://a.example/x.png", True),
        ("HTTP://a.example/x.png", True),
        ("//a.example/x.png", True),
        ("/static/x.png", False),
        ("x.png", False),
        ("javascript:alert(1)", False),
        ("http://[::1", False),
    ],
)
def test_what_counts_as_external(src: str, external: bool) -> None:
    assert is_external(src) is external


def test_an_unknown_mode_is_the_safest() -> None:
    assert parse_mode("proxy") == "proxy"
    assert parse_mode("nonsense") == "off"
