"""The trailing-slash redirect names a path, never the Host the client sent."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wheelyard.http.slash_redirects import other_spelling, use_relative_slash_redirects


def ok(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def client_for(*routes: Route) -> TestClient:
    app = Starlette(routes=list(routes))
    use_relative_slash_redirects(app.router)
    return TestClient(app, base_url="http://evil.example")


@pytest.fixture
def client() -> TestClient:
    return client_for(Route("/things/", ok), Route("/a/b", ok))


@pytest.mark.parametrize(
    ("path", "location"),
    [("/things", "/things/"), ("/things?q=1&r=2", "/things/?q=1&r=2"), ("/a/b/", "/a/b")],
)
def test_the_other_spelling_is_a_relative_redirect(
    client: TestClient, path: str, location: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == location


@pytest.mark.parametrize("path", ["//evil.example", "/\\evil.example"])
def test_no_redirect_to_another_site(path: str) -> None:
    # A route that takes "//evil.example/": a redirect to it would leave the site.
    router = Starlette(routes=[Route("/{rest:path}/", ok)]).router
    scope = {"type": "http", "path": path, "query_string": b"", "method": "GET"}
    assert other_spelling(router, scope) is None
    assert other_spelling(router, {**scope, "path": "/fine"}) == "/fine/"


def test_no_redirect_to_what_is_not_there() -> None:
    response = client_for(Route("/nothing/", ok)).get("/nothing/here", follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
