"""The audit origin read from a request: the client's address and its User-Agent."""

from __future__ import annotations

from starlette.requests import Request

from wheelyard.http.origin import client_origin
from wheelyard.services.audit import Origin


def test_the_address_and_user_agent_of_the_client() -> None:
    request = Request(
        {
            "type": "http",
            "headers": [(b"user-agent", b"pip/24.0")],
            "client": ("192.0.2.9", 50000),
        }
    )
    assert client_origin(request) == Origin(ip_address="192.0.2.9", user_agent="pip/24.0")


def test_nothing_is_made_up_where_the_request_carries_neither() -> None:
    assert client_origin(Request({"type": "http", "headers": []})) == Origin()
