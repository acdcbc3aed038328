"""Every page of the site carries the security headers: a policy that forbids framing, nosniff,
and a referrer policy.

The GET routes are read from the application's own route table and their path parameters
filled from a seeded project, release, file and user, so a route added later is walked
without touching this test (a new kind of parameter fails until it gets a value here). Each
is fetched by three visitors (anonymous, signed in, half signed in and owing a second
factor) and twice, since the second answer may come from a layer that skips the rest of the
app (the simple pages' fast path). The error pages (400, 404, 405, and the 500 page that
Starlette renders outside every middleware) are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from tests.helpers.accounts import log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from wheelyard.app import create_app
from wheelyard.config import Settings
from wheelyard.services.accounts import password_reset
from wheelyard.services.discovery import search
from wheelyard.storage.base import FileStorage

SAFE = {"GET", "HEAD", "OPTIONS"}
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")

# What fills each path parameter, from the site seeded below; a route template can give a
# parameter a meaning of its own.
VALUES = {
    "name": "demo",
    "project": "demo",
    "version": "1.0",
    "facet_id": "MIT",
    "number": "1",
    "chart": "daily",
}
VALUES_FOR = {"/languages/{facet_id:path}/": {"facet_id": "Python 3"}}
# Filled at run time: they are made by the seeding (a stored file's path, a reset token).
SEEDED = {"path", "token"}

# Pages the signed-in owner must get as HTML: proof that the walk reaches real pages.
OWNER_PAGES = {
    "/",
    "/account",
    "/account/tokens",
    "/account/two-factor",
    "/manage/project/demo/",
    "/project/demo/",
    "/project/demo/1.0/",
    "/project/demo/stats/",
    "/stats/",
    "/simple/",
    "/simple/demo/",
    "/search",
    "/licenses/MIT/",
    "/languages/Python%203/",
}


def _app_routes() -> list[BaseRoute]:
    return create_app(Settings(database_url="sqlite://", secret_key="x")).routes


def get_routes() -> list[str]:
    return sorted(
        route.path
        for route in _app_routes()
        if isinstance(route, Route) and route.methods and "GET" in route.methods
    )


def form_only_routes() -> list[str]:
    return sorted(
        route.path
        for route in _app_routes()
        if isinstance(route, Route) and route.methods and not route.methods & SAFE
    )


def mounts() -> list[str]:
    return sorted(route.path for route in _app_routes() if isinstance(route, Mount))


GET_ROUTES = get_routes()
FORM_ONLY_ROUTES = form_only_routes()
MOUNTS = mounts()


def assert_secured(response: Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, f"{where}: no frame-ancestors in {policy!r}"
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    if is_html(response):
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, where


def is_html(response: Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


@dataclass
class Site:
    """The seeded index: Olive owns "demo"; Tess has two-factor login on."""

    values: dict[str, str]

    def url(self, template: str) -> str:
        values = {**VALUES, **VALUES_FOR.get(template, {}), **self.values}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in values, f"{template}: give the path parameter {name!r} a value here"
            return quote(values[name], safe="/")

        return _PARAMETER.sub(fill, template)


@pytest.fixture
def site(db: Session, make: Factory, app: Starlette) -> Site:
    owner = make.user(name="Olive Owner", email="owner@example.com")
    tess = make.user(name="Tess", email="tess@example.com")
    tess.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    package = make.package(
        "demo",
        versions=("1.0",),
        owner=owner,
        license=make.license("MIT"),
        languages=(make.language("Python 3"),),
    )
    release = make.release(package, "2.0", with_file=False)
    storage: FileStorage = app.state.storage
    stored = make.stored_file(release, wheel(Project("demo", "2.0")), storage)
    assert stored.storage_path is not None
    token = password_reset.issue(db, owner, minutes=30)
    db.commit()
    return Site(values={"path": stored.storage_path, "token": token})


Visit = Callable[[TestClient], None]


def _anonymous(client: TestClient) -> None:
    pass


def _signed_in(client: TestClient) -> None:
    response = log_in(client, "owner@example.com")
    assert response.headers["location"] == "/account"


def _owing_a_second_factor(client: TestClient) -> None:
    response = log_in(client, "tess@example.com")
    assert response.headers["location"] == "/account/login/two-factor"


VISITORS: dict[str, Visit] = {
    "anonymous": _anonymous,
    "signed in": _signed_in,
    "owing a second factor": _owing_a_second_factor,
}


def test_the_walk_finds_the_pages() -> None:
    # A guard against a walk that finds nothing and so proves nothing.
    assert "/" in GET_ROUTES and "/manage/project/{name}/" in GET_ROUTES
    assert "/account/reset/{token}" in GET_ROUTES and "/stats/" in GET_ROUTES
    assert len(GET_ROUTES) >= 30
    assert "/static" in MOUNTS


def test_every_route_is_one_the_walk_understands() -> None:
    # Another kind of route (a Host, a WebSocketRoute, a bare ASGI app) would go unwalked.
    strangers = [route for route in _app_routes() if not isinstance(route, Route | Mount)]
    assert strangers == []


def test_every_parameter_has_a_value() -> None:
    names = {name for path in GET_ROUTES for name in _PARAMETER.findall(path)}
    assert names <= set(VALUES) | SEEDED


def problems_with(response: Response) -> str | None:
    """What is wrong with an answer: a server error or a missing header; None when nothing."""
    if response.status_code >= 500:
        return f"answered {response.status_code}: {response.text[:200]}"
    try:
        assert_secured(response)
    except AssertionError as error:
        return str(error).splitlines()[0]
    return None


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_get_route_answers_with_the_headers(
    client: TestClient, site: Site, visitor: str
) -> None:
    VISITORS[visitor](client)
    problems = []
    for template in GET_ROUTES:
        url = site.url(template)
        # Twice: the second answer may come from a cache in front of the app's other layers.
        for attempt in ("first", "second"):
            problem = problems_with(client.get(url, follow_redirects=False))
            if problem is not None:
                problems.append(f"{template} ({url}, {attempt} time): {problem}")
    assert not problems, "\n".join(problems)


def test_the_owners_pages_are_html_pages(client: TestClient, site: Site) -> None:
    _signed_in(client)
    for path in sorted(OWNER_PAGES):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, is_html(response)) == (200, True), path
        assert_secured(response)
    reset = client.get(site.url("/account/reset/{token}"))
    assert (reset.status_code, is_html(reset)) == (200, True)


def test_the_second_factor_page_is_an_html_page(client: TestClient, site: Site) -> None:
    _owing_a_second_factor(client)
    response = client.get("/account/login/two-factor", follow_redirects=False)
    assert (response.status_code, is_html(response)) == (200, True)
    assert_secured(response)


def test_a_simple_page_from_the_fast_path_carries_them(client: TestClient, site: Site) -> None:
    first = client.get("/simple/demo/")
    cached = client.get("/simple/demo/")
    assert first.status_code == cached.status_code == 200
    # The same page, the second time from the worker's cache before the session layer.
    assert cached.text == first.text and "set-cookie" not in cached.headers
    assert is_html(cached)
    assert_secured(cached)


ERROR_PAGES = [
    ("/no/such/page", 404),
    ("/project/no-such-project/", 404),
    ("/project/demo/9.9/", 404),
    ("/manage/project/no-such-project/", 404),
    ("/licenses/MIT/?page=first", 400),
    ("/search?q=" + "x" * (search.MAX_QUERY_LENGTH + 1), 400),
    *((mount + "/no-such-file", 404) for mount in MOUNTS),
]


@pytest.mark.parametrize(("path", "status"), ERROR_PAGES)
def test_error_pages_carry_them(client: TestClient, site: Site, path: str, status: int) -> None:
    _signed_in(client)
    response = client.get(path, follow_redirects=False)
    assert (response.status_code, is_html(response)) == (status, True), response.text[:300]
    assert_secured(response)


@pytest.mark.parametrize("template", FORM_ONLY_ROUTES)
def test_a_get_to_a_form_only_route_is_refused_with_them(
    client: TestClient, site: Site, template: str
) -> None:
    response = client.get(site.url(template), follow_redirects=False)
    assert response.status_code == 405
    assert_secured(response)


def test_the_server_error_page_carries_them(app: Starlette, site: Site) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.router.routes.append(Route("/broken", broken))
    app.router.routes.append(Route("/api/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/broken")
        assert (page.status_code, is_html(page)) == (500, True)
        assert "Something went wrong on our side" in page.text
        assert_secured(page)
        plain = client.get("/api/broken")
        assert plain.status_code == 500
        assert plain.headers["content-type"].startswith("text/plain")
        assert_secured(plain)
