"""Requests naming a Host the operator did not list get 400 before anything else runs."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from wheelyard.http.allowed_hosts import INVALID_HOST


@pytest.mark.parametrize(
    "path", ["/", "/simple/", "/simple/flask/", "/pypi/flask/json", "/packages/x"]
)
def test_an_unlisted_host_gets_400_everywhere(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.text == INVALID_HOST


def test_a_listed_host_with_a_port_is_served(client: TestClient) -> None:
    assert client.get("/simple/", headers={"Host": "testserver:8000"}).status_code == 200
