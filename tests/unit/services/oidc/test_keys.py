"""Issuers' keys: discovery then JWKS, cached, fetched again for a new kid, but not often."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.oidc_issuer import Issuer, new_key, running_issuer
from wheelyard.services.oidc.keys import IssuerKeys, NoKey


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


def test_keys_are_fetched_once_and_kept(issuer: Issuer) -> None:
    keys = IssuerKeys()
    try:
        first = keys.key(issuer.url, issuer.kid)
        again = keys.key(issuer.url, issuer.kid)
    finally:
        keys.close()
    assert first.key_id == again.key_id == issuer.kid
    assert issuer.fetches == ["/.well-known/openid-configuration", "/jwks"]


def test_an_unknown_kid_fetches_again_but_not_within_the_pause(issuer: Issuer) -> None:
    keys = IssuerKeys(refetch_seconds=3600)
    try:
        keys.key(issuer.url, issuer.kid)
        issuer.keys["new"] = new_key()
        with pytest.raises(NoKey):
            keys.key(issuer.url, "new")  # fetched a moment ago: not asked again yet
        assert issuer.fetches.count("/jwks") == 1
    finally:
        keys.close()
    eager = IssuerKeys(refetch_seconds=0)
    try:
        eager.key(issuer.url, issuer.kid)
        assert eager.key(issuer.url, "new").key_id == "new"
        with pytest.raises(NoKey, match="no key 'nobody'"):
            eager.key(issuer.url, "nobody")
    finally:
        eager.close()


def test_an_issuer_that_is_not_there_gives_no_key() -> None:
    keys = IssuerKeys(timeout=2)
    try:
        with pytest.raises(NoKey, match="cannot reach"):
            keys.key("http://127.0.0.1:1", "kid")
    finally:
        keys.close()
