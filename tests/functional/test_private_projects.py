"""Private projects on a public index: invisible to everyone without a role on them.

The leak walk reads the GET routes from the application's own route table (as
test_security_headers_everywhere.py does) and fills their path parameters with the private
project, its release and its stored file. Its owner reads every route first, so that the
worker's caches (the fast path's pages, known files, the /simple/ chunks) hold whatever
they would keep; then each visitor without a role walks them all, twice: the private name,
summary and filename appear in no body and no header, and every answer has the status a
never-registered name gets.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.apps import app_for
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.uploads import basic_auth
from wheelyard.app import create_app
from wheelyard.config import Settings
from wheelyard.data.api_token import TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.services.accounts import password_reset, tokens
from wheelyard.services.audit import Action
from wheelyard.services.projects.release_files import file_url
from wheelyard.storage.base import FileStorage

SECRET_NAME = "zephyr-secret"
SECRET_DIST = "zephyr_secret"  # how the name is spelled in its filenames
SECRET_SUMMARY = "Hush-hush orbital calculations"
GHOST_NAME = "nobody-made-this"
SECRETS = (SECRET_NAME, SECRET_DIST, SECRET_SUMMARY)
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
VALUES = {
    "name": SECRET_NAME,
    "project": SECRET_NAME,
    "version": "1.0",
    "facet_id": "MIT",
    "number": "1",
    "chart": "daily",
}
VALUES_FOR = {"/languages/{facet_id:path}/": {"facet_id": "Python 3"}}


def get_routes() -> list[str]:
    app = create_app(Settings(database_url="sqlite://", secret_key="x"))
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, Route) and route.methods and "GET" in route.methods
    )


GET_ROUTES = get_routes()


@dataclass
class Site:
    """Olive owns the public "demo"; Priya owns the private project (and maintains demo);
    Ada maintains demo only. Each has a read token limited to demo; Priya one for all."""

    file_path: str
    reset_token: str
    tokens: dict[str, str]

    def url(self, template: str, name: str = SECRET_NAME) -> str:
        values = {**VALUES, "name": name, "project": name, **VALUES_FOR.get(template, {})}
        values["path"] = self.file_path.replace(SECRET_DIST, name.replace("-", "_"))
        values["token"] = self.reset_token

        def fill(match: re.Match[str]) -> str:
            assert match.group(1) in values, f"{template}: give {match.group(1)!r} a value"
            return quote(values[match.group(1)], safe="/")

        return _PARAMETER.sub(fill, template)


@pytest.fixture
def site(db: Session, make: Factory, app: Starlette) -> Site:
    olive = make.user(name="Olive Owner", email="owner@example.com")
    priya = make.user(name="Priya Private", email="priya@example.com")
    ada = make.user(name="Ada Lovelace", email="ada@example.com")
    mit, python3 = make.license("MIT"), make.language("Python 3")
    demo = make.package("demo", owner=olive, license=mit, languages=(python3,))
    secret = make.package(
        SECRET_NAME,
        versions=(),
        summary=SECRET_SUMMARY,
        owner=priya,
        license=mit,
        languages=(python3,),
    )
    secret.visibility = Visibility.PRIVATE
    release = make.release(secret, "1.0", with_file=False)
    storage: FileStorage = app.state.storage
    stored = make.stored_file(release, wheel(Project(SECRET_NAME, "1.0")), storage)
    db.add_all(
        [
            Maintainer(user=priya, package=demo, role=Role.MAINTAINER),
            Maintainer(user=ada, package=demo, role=Role.MAINTAINER),
        ]
    )
    db.flush()
    secrets = {
        "ada for demo": tokens.create_token(
            db, ada, description="r", package_id="demo", scope=TokenScope.READ
        )[1],
        "priya for demo": tokens.create_token(
            db, priya, description="r", package_id="demo", scope=TokenScope.READ
        )[1],
        "priya": tokens.create_token(db, priya, description="r", scope=TokenScope.READ)[1],
    }
    reset = password_reset.issue(db, olive, minutes=30)
    db.commit()
    return Site(file_url(stored), reset, secrets)


def _token(site: Site, which: str) -> dict[str, str]:
    return basic_auth("__token__", site.tokens[which])


Visit = Callable[[TestClient, Site], dict[str, str]]

VISITORS: dict[str, Visit] = {
    "anonymous": lambda client, site: {},
    "signed in without a role": lambda client, site: (log_in(client, "ada@example.com"), {})[1],
    "a read token for another project": lambda client, site: _token(site, "ada for demo"),
    # Priya holds a role on the private project, but this token of hers is for demo only.
    "the owner's token limited to another project": lambda client, site: _token(
        site, "priya for demo"
    ),
}


def _leaks(response: Response, url: str) -> list[str]:
    """The secrets in an answer, but for the name the request itself gave (a 404 page may
    repeat the name asked for, as it does for any name)."""
    asked = url.lower()
    text = response.text.lower()
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items()).lower()
    found = []
    for secret in SECRETS:
        needle = secret.lower()
        if needle in asked:
            text, headers = text.replace(needle, ""), headers.replace(needle, "")
        if needle in text or needle in headers:
            found.append(secret)
    return found


def _walk_as_owner(client: TestClient, site: Site) -> None:
    for template in GET_ROUTES:
        for accept in ("text/html", SIMPLE_JSON):
            client.get(
                site.url(template),
                headers={**_token(site, "priya"), "Accept": accept},
                follow_redirects=False,
            )


@pytest.mark.parametrize("visitor", VISITORS)
def test_a_private_project_leaks_nowhere(client: TestClient, site: Site, visitor: str) -> None:
    _walk_as_owner(client, site)
    headers = VISITORS[visitor](client, site)
    problems = []
    for template in GET_ROUTES:
        url, ghost = site.url(template), site.url(template, GHOST_NAME)
        for accept in ("text/html", SIMPLE_JSON):
            sent = {**headers, "Accept": accept}
            expected = client.get(ghost, headers=sent, follow_redirects=False).status_code
            # Twice: the second answer may come from a cache in front of the app.
            for attempt in ("first", "second"):
                response = client.get(url, headers=sent, follow_redirects=False)
                where = f"{url} ({accept}, {attempt} time, {response.status_code})"
                if response.status_code >= 500:
                    problems.append(f"{where}: server error")
                if response.status_code in {401, 403}:
                    problems.append(f"{where}: says the project exists")
                elif response.status_code != expected:
                    problems.append(f"{where}: a missing project answers {expected}")
                if leaked := _leaks(response, url):
                    problems.append(f"{where}: shows {leaked}")
    assert not problems, "\n".join(problems)


def test_the_walk_covers_the_project_routes() -> None:
    for path in (
        "/project/{name}/",
        "/project/{name}/{version:path}/",
        "/simple/{project}/",
        "/packages/{path:path}",
        "/pypi/{project}/json",
        "/pypi/{project}/{version}/json",
        "/project/{name}/stats/",
        "/rss/project/{name}/releases.xml",
        "/manage/project/{name}/",
        "/sitemap.xml",
        "/search",
    ):
        assert path in GET_ROUTES


OWNER_SEES = [
    "/project/zephyr-secret/",
    "/project/zephyr-secret/1.0/",
    "/simple/zephyr-secret/",
    "/simple/",
    "/pypi/zephyr-secret/json",
    "/pypi/zephyr-secret/1.0/json",
    "/project/zephyr-secret/stats/",
    "/rss/project/zephyr-secret/releases.xml",
    "/api/packages/zephyr-secret/recent",
    "/search?q=zephyr",
]


@pytest.mark.parametrize("path", OWNER_SEES)
@pytest.mark.parametrize("how", ["token", "session"])
def test_its_owner_sees_it(client: TestClient, site: Site, path: str, how: str) -> None:
    headers = _token(site, "priya") if how == "token" else {}
    if how == "session":
        assert log_in(client, "priya@example.com").status_code == 303
    for _ in range(2):  # and again, from whatever the first answer left cached
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert SECRET_NAME in response.text
        assert "private" in response.headers.get("cache-control", "private")
    # And the next anonymous request, to the same worker, gets nothing of it.
    client.cookies.clear()
    anonymous = client.get(path)
    if SECRET_NAME in path.split("?")[0]:
        assert anonymous.status_code == 404
    else:
        assert SECRET_NAME not in anonymous.text


def test_its_owner_installs_its_files(client: TestClient, site: Site) -> None:
    token = _token(site, "priya")
    for _ in range(2):
        assert client.get(site.file_path, headers=token).status_code == 200
        assert client.get(site.file_path + ".metadata", headers=token).status_code == 200
        assert client.get(site.file_path).status_code == 404
    simple = client.get("/simple/zephyr-secret/", headers={**token, "Accept": SIMPLE_JSON})
    assert simple.json()["files"][0]["filename"].startswith(SECRET_DIST)
    listing = client.get("/simple/", headers={**token, "Accept": SIMPLE_JSON}).json()
    assert {"demo", SECRET_NAME} <= {project["name"] for project in listing["projects"]}
    assert SECRET_NAME not in client.get("/simple/").text


def test_a_wrong_token_is_a_stranger(client: TestClient, site: Site) -> None:
    wrong = basic_auth("__token__", "wheelyard-not-a-token")
    assert client.get("/simple/zephyr-secret/", headers=wrong).status_code == 404
    assert client.get("/simple/demo/", headers=wrong).status_code == 200


def _set(client: TestClient, visibility: str) -> Response:
    manage = "/manage/project/zephyr-secret/"
    token = csrf_from(client, manage)
    return client.post(
        manage + "visibility",
        data={"csrf_token": token, "visibility": visibility},
        follow_redirects=False,
    )


def test_the_owner_makes_it_public_and_private_again(
    client: TestClient, site: Site, db: Session
) -> None:
    assert client.get("/simple/zephyr-secret/").status_code == 404
    assert log_in(client, "priya@example.com").status_code == 303
    assert _set(client, "public").status_code == 303
    client.cookies.clear()
    assert client.get("/simple/zephyr-secret/").status_code == 200
    assert SECRET_NAME in client.get("/simple/").text
    assert log_in(client, "priya@example.com").status_code == 303
    assert _set(client, "private").status_code == 303
    client.cookies.clear()
    # The worker had cached the public pages: the change dropped them at once.
    assert client.get("/simple/zephyr-secret/").status_code == 404
    assert client.get(site.file_path).status_code == 404
    assert SECRET_NAME not in client.get("/simple/").text
    db.expire_all()
    actions = [
        event.detail
        for event in db.query(AuditEvent).filter(AuditEvent.action == Action.VISIBILITY_CHANGED)
    ]
    assert actions == ["public", "private"]


def test_only_owners_change_it_and_only_with_the_form(client: TestClient, site: Site) -> None:
    assert log_in(client, "priya@example.com").status_code == 303
    refused = client.post(
        "/manage/project/zephyr-secret/visibility",
        data={"visibility": "public"},
        follow_redirects=False,
    )
    assert refused.status_code == 403  # no CSRF token
    assert _set(client, "open to all").status_code == 400
    client.cookies.clear()
    assert log_in(client, "ada@example.com").status_code == 303
    token = csrf_from(client, "/account")
    stranger = client.post(
        "/manage/project/zephyr-secret/visibility",
        data={"csrf_token": token, "visibility": "public"},
        follow_redirects=False,
    )
    assert stranger.status_code == 404
    client.cookies.clear()
    assert client.get("/simple/zephyr-secret/").status_code == 404


def test_the_setting_names_what_new_projects_are() -> None:
    env = {"WHEELYARD_SECRET_KEY": "k"}
    assert Settings.from_env(env).default_visibility == "public"
    private = Settings.from_env({**env, "WHEELYARD_DEFAULT_VISIBILITY": "private"})
    assert private.default_visibility == "private"
    with pytest.raises(ValueError, match="WHEELYARD_DEFAULT_VISIBILITY"):
        Settings.from_env({**env, "WHEELYARD_DEFAULT_VISIBILITY": "secret"})


def test_a_public_project_is_unaffected(client: TestClient, site: Site, db: Session) -> None:
    assert db.get(Package, "demo") is not None
    for path in ("/simple/demo/", "/pypi/demo/json", "/project/demo/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "private" not in response.headers.get("cache-control", "")


def test_on_a_private_index_too(
    settings: Settings, sessions: sessionmaker[Session], site: Site
) -> None:
    app = app_for(dataclasses.replace(settings, private=True), sessions)
    with TestClient(app, base_url="http://testserver") as private:
        for _ in range(2):  # the second time from whatever the first left cached
            owner = private.get("/simple/zephyr-secret/", headers=_token(site, "priya"))
            assert owner.status_code == 200 and SECRET_DIST in owner.text
        for which in ("ada for demo", "priya for demo"):
            # Past the private site's check (a valid token), then not found.
            token = _token(site, which)
            assert private.get("/simple/demo/", headers=token).status_code == 200
            assert private.get("/simple/zephyr-secret/", headers=token).status_code == 404
            assert private.get(site.file_path, headers=token).status_code == 404
            assert SECRET_NAME not in private.get("/simple/", headers=token).text
        assert private.get("/simple/zephyr-secret/").status_code == 401
