"""http.allowed_hosts: which Host headers pass, spelt every way a client may spell them."""

from __future__ import annotations

import pytest

from wheelyard.http.allowed_hosts import host_allowed, host_name

PERMITTED = frozenset({"localhost", "127.0.0.1", "::1", "pypi.example.org", "*.corp.example"})


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("pypi.example.org", "pypi.example.org"),
        ("PyPI.Example.ORG:8443", "pypi.example.org"),
        ("pypi.example.org.", "pypi.example.org"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
    ],
)
def test_host_name_drops_port_case_and_trailing_dot(header: str, host: str) -> None:
    assert host_name(header) == host


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "::1", "pypi.example.org", "a.corp.example", "b.a.corp.example"],
)
def test_listed_names_and_wildcard_domains_pass(host: str) -> None:
    assert host_allowed(host, PERMITTED)


@pytest.mark.parametrize(
    "host", ["evil.example", "pypi.example.org.evil.example", "corp.example", "xcorp.example", ""]
)
def test_everything_else_is_refused(host: str) -> None:
    assert not host_allowed(host, PERMITTED)


def test_a_star_allows_every_host() -> None:
    assert host_allowed("anything.example", frozenset({"*"}))
