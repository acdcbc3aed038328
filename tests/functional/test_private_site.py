"""A private index (WHEELYARD_PRIVATE=1): 401 with Basic for the machine routes, sign-in for
pages, open doors only where a stranger must get in, and no cached answer for strangers."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.helpers.accounts import log_in
from tests.helpers.apps import app_for
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth
from wheelyard.config import Settings
from wheelyard.data.api_token import TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.http.private_site import CREDENTIALS_NEEDED
from wheelyard.services.access.readers import REMEMBER_SECONDS
from wheelyard.services.accounts import tokens
from wheelyard.services.audit import Action
from wheelyard.services.projects.release_files import file_url
from wheelyard.storage.base import FileStorage

MACHINE_PATHS = [
    "/simple/",
    "/simple/demo/",
    "/pypi/demo/json",
    "/pypi/demo/1.0/json",
    "/rss/updates.xml",
    "/rss/project/demo/releases.xml",
    "/api/packages/demo/recent",
    "/sitemap.xml",
]
PAGES = ["/", "/project/demo/", "/search?q=demo", "/stats/", "/account"]


@pytest.fixture
def private(
    settings: Settings, sessions: sessionmaker[Session], package: Package
) -> Iterator[TestClient]:
    app = app_for(dataclasses.replace(settings, private=True), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def read_token(db: Session, ada: User) -> str:
    _token, secret = tokens.create_token(db, ada, description="installs", scope=TokenScope.READ)
    return secret


@pytest.mark.parametrize("path", MACHINE_PATHS)
def test_machine_routes_answer_401_with_basic(private: TestClient, path: str) -> None:
    response = private.get(path, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="wheelyard"'
    assert response.text == CREDENTIALS_NEEDED
    assert "demo" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_strangers_to_sign_in(private: TestClient, path: str) -> None:
    response = private.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=%2F")


@pytest.mark.parametrize("path", MACHINE_PATHS + PAGES)
def test_a_read_token_reads_everything(private: TestClient, read_token: str, path: str) -> None:
    response = private.get(path, headers=basic_auth("__token__", read_token))
    assert response.status_code == 200, response.text


def test_files_and_their_metadata_need_credentials(
    private: TestClient, read_token: str, make: Factory, package: Package, storage: FileStorage
) -> None:
    release = make.release(package, "3.0", with_file=False)
    stored = make.stored_file(release, wheel(Project("demo", "3.0")), storage)
    path = file_url(stored)
    assert private.get(path).status_code == 401
    assert private.get(path + ".metadata").status_code == 401
    token = basic_auth("__token__", read_token)
    assert private.get(path, headers=token).status_code == 200
    assert private.get(path + ".metadata", headers=token).status_code == 200


def test_a_cached_answer_never_reaches_a_stranger(private: TestClient, read_token: str) -> None:
    for _ in range(2):  # the second answer comes from the worker's cache
        assert private.get("/simple/demo/", headers=basic_auth("__token__", read_token)).is_success
    assert private.get("/simple/demo/").status_code == 401
    assert private.get("/pypi/demo/json").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        basic_auth("__token__", "wheelyard-not-a-token"),
        basic_auth("ada@example.com", "wrong password"),
        basic_auth("nobody@example.com", PASSWORD),
        {"Authorization": "Bearer something"},
        {"Authorization": "Basic !!!"},
        basic_auth("__token__", "wheelyard-\0"),
    ],
)
def test_wrong_credentials_get_401(private: TestClient, ada: User, header: dict[str, str]) -> None:
    response = private.get("/simple/", headers=header)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


def test_an_account_password_reads_and_a_wrong_one_is_counted(
    private: TestClient, db: Session, ada: User
) -> None:
    assert private.get("/simple/", headers=basic_auth("ada@example.com", PASSWORD)).is_success
    assert (
        private.get("/simple/", headers=basic_auth("ada@example.com", "guess")).status_code == 401
    )
    failed = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == Action.LOGIN_FAILED))
    assert [event.user_id for event in failed] == [ada.id]


def test_a_revoked_token_stops_working_within_the_memory(
    private: TestClient, db: Session, ada: User
) -> None:
    token, secret = tokens.create_token(db, ada, description="soon gone", scope=TokenScope.READ)
    assert private.get("/simple/", headers=basic_auth("__token__", secret)).is_success
    tokens.revoke(db, token.id, ada.id)
    db.flush()
    time.sleep(REMEMBER_SECONDS + 0.1)
    assert private.get("/simple/", headers=basic_auth("__token__", secret)).status_code == 401


def test_a_signed_in_person_browses_and_installs(private: TestClient, ada: User) -> None:
    assert log_in(private, ada.email).status_code == 303
    assert private.get("/").status_code == 200
    assert private.get("/project/demo/").status_code == 200
    assert private.get("/simple/demo/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/account/login", "/account/reset", "/static/site.css", "/robots.txt"]
)
def test_the_doors_a_stranger_needs_stay_open(private: TestClient, path: str) -> None:
    assert private.get(path).status_code == 200


def test_robots_keep_crawlers_out(private: TestClient) -> None:
    assert private.get("/robots.txt").text == "User-agent: *\nDisallow: /\n"


def test_registration_is_closed_on_a_private_index(private: TestClient, ada: User) -> None:
    assert private.get("/account/register", follow_redirects=False).status_code == 303
    login_page = private.get("/account/login").text
    assert 'href="/account/register"' not in login_page
    assert "Ask an administrator" in login_page
    log_in(private, ada.email)
    response = private.get("/account/register")
    assert response.status_code == 403
    assert "Registration is closed on this index" in response.text


def test_uploads_still_take_their_own_credentials(
    private: TestClient, db: Session, ada: User, read_token: str
) -> None:
    # The upload API is not behind the read check: it answers for itself (403, the reason).
    response = private.post("/legacy/", headers=basic_auth("__token__", read_token))
    assert response.status_code == 403
    assert "can only read" in response.text


def test_a_public_index_is_unchanged(client: TestClient, package: Package, app: Starlette) -> None:
    assert client.get("/simple/demo/").status_code == 200
    assert "Allow: /" in client.get("/robots.txt").text


def test_the_settings_read_private_and_registration(tmp_path: object) -> None:
    private = Settings.from_env({"WHEELYARD_PRIVATE": "1", "WHEELYARD_SECRET_KEY": "k"})
    assert private.private and not private.registration_open
    opened = Settings.from_env(
        {"WHEELYARD_PRIVATE": "1", "WHEELYARD_REGISTRATION": "open", "WHEELYARD_SECRET_KEY": "k"}
    )
    assert opened.registration_open
    assert Settings.from_env({"WHEELYARD_SECRET_KEY": "k"}).registration_open
    with pytest.raises(ValueError, match="WHEELYARD_REGISTRATION"):
        Settings.from_env({"WHEELYARD_REGISTRATION": "maybe", "WHEELYARD_SECRET_KEY": "k"})


SECRET_SUMMARY = "Quarterly numbers nobody outside may read"


def every_get_path(app: Starlette) -> list[str]:
    """Each GET route of the app, its parameters filled with the private project's names."""
    paths = []
    for route in app.routes:
        if isinstance(route, Route) and route.methods and "GET" in route.methods:
            path = route.path.replace("{path:path}", "ab/cd/x/secret_billing-1.0.tar.gz")
            paths.append(re.sub(r"\{[^}]+\}", "secret-billing", path))
    return sorted(set(paths))


def test_no_route_shows_a_stranger_anything_of_the_index(
    settings: Settings, sessions: sessionmaker[Session], make: Factory, db: Session
) -> None:
    project = make.package("secret-billing", summary=SECRET_SUMMARY, versions=("1.0",))
    filename = project.releases[0].files[0].filename
    app = app_for(dataclasses.replace(settings, private=True), sessions)
    paths = every_get_path(app)
    assert len(paths) > 20
    with TestClient(app, base_url="http://testserver") as stranger:
        for path in paths:
            response = stranger.get(path, follow_redirects=False)
            where = f"GET {path} ({response.status_code})"
            assert response.status_code in {200, 303, 401, 404}, where
            if response.status_code == 200:
                # Trusted publishing's audience: a CI job reads it before it holds any
                # credential; it names the site, no project. The health checks are open (a
                # probe has no credentials) and tell nothing.
                assert path.startswith(
                    ("/account/", "/robots.txt", "/_/oidc/audience", "/_health/")
                ), where
            seen = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
            for secret in ("secret-billing", "secret_billing", SECRET_SUMMARY, filename):
                if response.status_code == 303:
                    # The way back after signing in names the page asked for, nothing more.
                    seen = seen.replace(response.headers["location"], "")
                assert secret not in seen, f"{where} shows {secret!r}"
