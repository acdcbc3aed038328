"""Content negotiation's memo holds short Accept values only: a client picks the header."""

from __future__ import annotations

from wheelyard.api.simple import MAX_REMEMBERED_ACCEPT, negotiate, remembered_negotiate

JSON = "application/vnd.pypi.simple.v1+json"


def test_long_accept_headers_are_answered_but_not_remembered() -> None:
    remembered_negotiate.cache_clear()
    negotiate(JSON)
    assert remembered_negotiate.cache_info().currsize == 1
    for number in range(50):
        long_accept = f"{JSON}, text/x-{number}-" + "y" * MAX_REMEMBERED_ACCEPT
        assert negotiate(long_accept) == JSON
        assert negotiate(None, "json" + " " * MAX_REMEMBERED_ACCEPT + str(number)) is None
    assert remembered_negotiate.cache_info().currsize == 1
