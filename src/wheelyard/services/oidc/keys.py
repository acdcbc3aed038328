"""The signing keys of OIDC issuers: discovery, then JWKS, cached and bounded.

An issuer's keys come from its ``/.well-known/openid-configuration`` and the ``jwks_uri``
it names. They are kept for ``ttl`` seconds; a token signed with a key id the cache does
not know makes the set be fetched again (the issuer rotated its keys), but not more often
than every ``refetch_seconds``, so tokens with made-up key ids cannot make this server
hammer the issuer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jwt

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Issuers are configured, so few; the bound is for safety, not for eviction in practice.
MAX_ISSUERS = 32
MAX_DOCUMENT_BYTES = 256 * 1024


class NoKey(Exception):
    """No key to check the token with; the message says why."""


@dataclass
class _Entry:
    keys: jwt.PyJWKSet
    fetched: float


class IssuerKeys:
    """Per issuer, the key set last fetched; safe to share between threads."""

    def __init__(
        self,
        client: httpx2.Client | None = None,
        *,
        ttl: float = 300.0,
        refetch_seconds: float = 10.0,
        timeout: float = 10.0,
    ) -> None:
        self._client = client or httpx2.Client(timeout=timeout, follow_redirects=False)
        self._ttl = ttl
        self._refetch = refetch_seconds
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def key(self, issuer: str, kid: str | None) -> jwt.PyJWK:
        """The key ``kid`` of ``issuer`` (the only one, when the token names none)."""
        with self._lock:
            entry = self._entries.get(issuer)
        now = time.monotonic()
        if entry is not None and now - entry.fetched < self._ttl:
            found = _find(entry.keys, kid)
            if found is not None:
                return found
            if now - entry.fetched < self._refetch:
                raise NoKey(f"the issuer has no key {kid!r}")
        entry = self._fetch(issuer)
        found = _find(entry.keys, kid)
        if found is None:
            raise NoKey(f"the issuer has no key {kid!r}")
        return found

    def _fetch(self, issuer: str) -> _Entry:
        discovery = self._document(issuer.rstrip("/") + DISCOVERY_PATH)
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not _same_trust(issuer, jwks_uri):
            raise NoKey("the issuer's discovery document names no usable jwks_uri")
        try:
            keys = jwt.PyJWKSet.from_dict(self._document(jwks_uri))
        except jwt.PyJWKError as error:
            raise NoKey(f"the issuer's key set is unusable: {error}") from error
        entry = _Entry(keys, time.monotonic())
        with self._lock:
            self._entries[issuer] = entry
            self._entries.move_to_end(issuer)
            while len(self._entries) > MAX_ISSUERS:
                self._entries.popitem(last=False)
        return entry

    def _document(self, url: str) -> dict[str, Any]:
        try:
            response = self._client.get(url, headers={"Accept": "application/json"})
        except httpx2.HTTPError as error:
            raise NoKey(f"cannot reach the issuer: {error}") from error
        if response.status_code != 200 or len(response.content) > MAX_DOCUMENT_BYTES:
            raise NoKey(f"the issuer answered {response.status_code} for {url}")
        try:
            document = response.json()
        except ValueError as error:
            raise NoKey(f"the issuer sent no JSON at {url}") from error
        if not isinstance(document, dict):
            raise NoKey(f"the issuer sent no JSON object at {url}")
        return document


def _find(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    for key in keys.keys:
        if key.key_id == kid:
            return key
    return None


def _same_trust(issuer: str, url: str) -> bool:
    """The keys come over https, or over http only from a loopback issuer to loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return (
        parts.scheme == "http"
        and urlsplit(issuer).scheme == "http"
        and parts.hostname in {"127.0.0.1", "::1", "localhost"}
    )
