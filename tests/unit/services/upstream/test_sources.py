"""Upstream URLs with their credentials taken out, and the blocked names."""

from __future__ import annotations

from wheelyard.services.upstream.sources import Upstream, is_blocked, upstreams


def test_credentials_leave_the_url_for_basic_auth() -> None:
    first, second = upstreams(("https://ada:s%40cret@one.example:8443/simple/", "http://b/s/"))
    assert first == Upstream("https://one.example:8443/simple/", ("ada", "s@cret"))
    assert first.auth == ("ada", "s@cret")
    assert "cret" not in repr(first)
    assert second == Upstream("http://b/s/")
    assert second.project_url("demo") == "http://b/s/demo/"


def test_block_patterns_match_normalized_names() -> None:
    patterns = ("acme-*", "internal-lib")
    assert is_blocked("acme-tools", patterns)
    assert is_blocked("internal-lib", patterns)
    assert not is_blocked("acme", patterns)
    assert not is_blocked("requests", patterns)
