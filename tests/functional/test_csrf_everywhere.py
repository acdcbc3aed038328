"""Every state-changing route of the web UI refuses a form without its CSRF token.

The routes are read from the application itself, so a form route added later is covered
without touching this test; only the machine-facing APIs, which authenticate every request
with HTTP basic auth and carry no cookie, are exempt, and are named here.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.app import create_app
from wheelyard.config import Settings
from wheelyard.data.user import User
from wheelyard.services.ops import row_counts

# PyPI's upload API: twine sends basic auth, never a session cookie. PyPI's XML-RPC API
# changes nothing, reads no session cookie (basic auth only) and takes only text/xml, which
# no cross-site form can send. Trusted publishing's token exchange: a CI job sends its OIDC
# token, and no cookie counts there either.
EXEMPT = {
    "/legacy/",
    "/legacy",
    "/pypi",
    "/pypi/",
    "/_/oidc/mint-token",
    "/_/oidc/github/mint-token",
}
SAFE = {"GET", "HEAD", "OPTIONS"}
CSRF_REFUSAL = "CSRF token missing or incorrect"


def state_changing_paths() -> list[str]:
    app = create_app(Settings(database_url="sqlite://", secret_key="x"))
    paths = []
    for route in app.routes:
        changes = isinstance(route, Route) and bool(route.methods and route.methods - SAFE)
        if changes and route.path not in EXEMPT:
            # Any value fills a parameter: the token is checked before it is looked up.
            paths.append(re.sub(r"\{[^}]+\}", "demo", route.path))
    return sorted(paths)


PATHS = state_changing_paths()


def test_the_walk_finds_the_forms() -> None:
    # A guard against a walk that finds nothing and so proves nothing.
    assert "/account/logout" in PATHS
    assert "/manage/project/demo/release/yank" in PATHS
    assert len(PATHS) >= 10


@pytest.fixture
def signed_in(client: TestClient, make: Factory, db: Session) -> User:
    """Ada, logged in, owning "demo": every form would otherwise be allowed to act."""
    ada = make.user(email="ada@example.com", name="Ada")
    make.package("demo", versions=("1.0",), owner=ada)
    db.commit()
    page = client.get("/account/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/account/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": token[1],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    return ada


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_form_without_its_token_is_refused_and_changes_nothing(
    client: TestClient, app: Starlette, signed_in: User, db: Session, path: str, token: str | None
) -> None:
    before = row_counts.row_counts(db)
    data = {"csrf_token": token} if token else {}
    response = client.post(path, data=data, follow_redirects=False)
    assert response.status_code == 403, (path, response.status_code, response.text[:200])
    assert CSRF_REFUSAL in response.text
    assert row_counts.row_counts(db) == before
