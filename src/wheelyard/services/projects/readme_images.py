"""External images in READMEs, as ``WHEELYARD_README_IMAGES`` says: proxied, dropped or left.

An ``<img src="https://elsewhere/...">`` in a README makes every reader's browser ask that
host, telling it who reads which project when (a tracking pixel). With ``proxy`` the page
points the image at this index's image proxy instead (see image_proxy.py), under an HMAC of
the URL so that the proxy fetches only URLs that some README of this index shows; with
``off`` the image is dropped and its alt text kept; ``direct`` leaves the HTML as rendered.

Applied to a README's HTML when a page shows it, so that changing the setting changes every
page at once. The HTML is readme-renderer's, already sanitized: only ``<img>`` tags change,
everything else is written back as it was read.
"""

from __future__ import annotations

import hashlib
import hmac
from html import escape
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import quote, urlsplit

Mode = Literal["proxy", "direct", "off"]
MODES: tuple[Mode, ...] = ("proxy", "direct", "off")
PROXY_PATH = "/readme-image"
# 128 bits of HMAC-SHA256: as many as the proxy's links need to be unguessable.
_SIGNATURE_HEX = 32


def parse_mode(value: str) -> Mode:
    """The mode a setting names; "off", the safest, for one it does not (config.py refuses
    those)."""
    for mode in MODES:
        if value == mode:
            return mode
    return "off"


class ImageSigner:
    """Signs image URLs for the proxy, with a key derived from the site's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"wheelyard readme images\x00" + secret_key.encode()).digest()

    def sign(self, url: str) -> str:
        digest = hmac.new(self._key, url.encode(), hashlib.sha256).hexdigest()
        return digest[:_SIGNATURE_HEX]

    def verify(self, url: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(url), signature)

    def proxied(self, url: str) -> str:
        return f"{PROXY_PATH}?url={quote(url, safe='')}&sig={self.sign(url)}"


def is_external(src: str) -> bool:
    """An http(s) URL naming a host (``//host/x`` too): one that makes the browser ask it."""
    try:
        parts = urlsplit(src.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in {"", "http", "https"} and bool(parts.hostname)


def absolute(src: str) -> str:
    """``src`` with a scheme: a scheme-relative ``//host/x`` is fetched over https."""
    src = src.strip()
    return "https:" + src if src.startswith("//") else src


def _attributes(attrs: list[tuple[str, str | None]]) -> str:
    return "".join(
        f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"'
        for name, value in attrs
    )


class _Rewriter(HTMLParser):
    def __init__(self, mode: Mode, signer: ImageSigner) -> None:
        # Character references are written back as they came, not decoded.
        super().__init__(convert_charrefs=False)
        self.mode = mode
        self.signer = signer
        self.out: list[str] = []

    def _image(self, attrs: list[tuple[str, str | None]], text: str) -> str:
        src = dict(attrs).get("src")
        if src is None or not is_external(src):
            return text
        if self.mode == "off":
            alt = dict(attrs).get("alt") or ""
            return f'<span class="readme-image-dropped">{escape(alt)}</span>' if alt else ""
        rewritten = [
            (name, self.signer.proxied(absolute(src)) if name == "src" else value)
            for name, value in attrs
        ]
        return f"<img{_attributes(rewritten)}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text() or ""
        self.out.append(self._image(attrs, text) if tag == "img" else text)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def rewrite(html: str, mode: Mode, signer: ImageSigner) -> str:
    """``html`` with its external images proxied (``proxy``) or dropped (``off``)."""
    if mode == "direct" or "<img" not in html:
        return html
    rewriter = _Rewriter(mode, signer)
    rewriter.feed(html)
    rewriter.close()
    # Whatever the parser still held (text after a last "<" that opened nothing) is kept.
    rewriter.out.append(rewriter.rawdata)
    return "".join(rewriter.out)
