"""Redirects name paths, never the Host a client sent: a proxy may keep them."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers.factories import Factory


@pytest.mark.parametrize("allowed_hosts", [("*",)])
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/account/", "/account"),  # the router's trailing-slash redirect
        ("/simple/Demo_Thing/", "/simple/demo-thing/"),
        ("/pypi/Demo_Thing/json", "/pypi/demo-thing/json"),
        ("/rss/project/Demo_Thing/releases.xml", "/rss/project/demo-thing/releases.xml"),
        ("/project/Demo_Thing/", "/project/demo-thing/"),
    ],
)
def test_redirects_are_relative(
    client: TestClient, make: Factory, path: str, location: str
) -> None:
    make.package("demo-thing")
    response = client.get(path, headers={"Host": "attacker.example"}, follow_redirects=False)
    assert response.status_code in {301, 307}
    assert response.headers["location"] == location
