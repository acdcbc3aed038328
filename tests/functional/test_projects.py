"""Project pages over HTTP: /project/<name>/ and /project/<name>/<version>/."""

from __future__ import annotations

import datetime as dt
import http.client
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer
from tests.helpers.passwords import cheap_passwords
from wheelyard.data.db_session import create_engine
from wheelyard.data.package import Package

README = """# Thing

Some **bold** words and a list:

- one
- two

<script>alert("owned")</script>
"""


def release_urls(body: str) -> list[str]:
    """The links of the release history, in page order."""
    history = body[body.index('id="history"') : body.index('id="files"')]
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)">', history)]


@pytest.fixture
def thing(make: Factory) -> Package:
    owner = make.user(name="Olive Owner")
    package = make.package(
        "Thing",
        versions=(),
        summary="Does things well",
        description=README,
        description_content_type="text/markdown",
        license=make.license("MIT"),
        languages=(make.language("Python 3"), make.language("C++")),
        owner=owner,
    )
    package.home_page = "https://thing.example.org/"
    package.docs_url = "https://docs.thing.example.org/"
    for day, version in enumerate(["1.0", "1.9", "1.10", "2.0rc1"], start=1):
        make.release(package, version, created=dt.datetime(2024, 1, day))
    make.db.flush()
    return package


def test_project_page_shows_the_latest_release(client: TestClient, thing: Package) -> None:
    response = client.get("/project/thing/")

    assert response.status_code == 200
    body = response.text
    assert '<h1>Thing <span class="project-version">1.10</span></h1>' in body
    assert '<code id="pip-command">pip install Thing</code>' in body
    assert "Does things well" in body
    assert "Latest version" in body
    assert "Olive Owner" in body
    assert "Owner" in body
    assert '<a href="/licenses/MIT/">MIT</a>' in body
    assert '<a href="/languages/Python%203/">Python 3</a>' in body
    assert '<a href="/languages/C++/">C++</a>' in body
    assert "Ada Author" in body
    assert 'href="mailto:ada@example.com"' in body
    assert 'href="https://thing.example.org/"' in body
    assert 'href="https://docs.thing.example.org/"' in body
    assert '<link rel="canonical" href="/project/thing/">' in body


def test_readme_is_rendered_to_safe_html(client: TestClient, thing: Package) -> None:
    body = client.get("/project/thing/").text

    assert "<strong>bold</strong>" in body
    assert "<li>one</li>" in body
    assert "<script>alert" not in body


def test_release_history_is_newest_first_in_pep440_order(
    client: TestClient, thing: Package
) -> None:
    body = client.get("/project/thing/").text

    assert release_urls(body) == [
        "/project/thing/2.0rc1/",
        "/project/thing/1.10/",
        "/project/thing/1.9/",
        "/project/thing/1.0/",
    ]
    assert "pre-release" in body


def test_an_older_release_has_a_pinned_pip_line(client: TestClient, thing: Package) -> None:
    response = client.get("/project/thing/1.9/")

    assert response.status_code == 200
    body = response.text
    assert '<code id="pip-command">pip install Thing==1.9</code>' in body
    assert "This is not the latest release." in body
    assert '<a href="/project/thing/1.10/">Thing 1.10</a> is.' in body
    assert '<li class="current" aria-current="page">' in body


def test_the_latest_release_by_url_is_not_pinned(client: TestClient, thing: Package) -> None:
    body = client.get("/project/thing/1.10/").text
    assert '<code id="pip-command">pip install Thing</code>' in body
    assert "not the latest release" not in body


def test_a_pre_release_is_pinned(client: TestClient, thing: Package) -> None:
    body = client.get("/project/thing/2.0rc1/").text
    assert "pip install Thing==2.0rc1" in body
    assert "Pre-release" in body


def test_yanked_releases_are_marked_with_their_reason(
    client: TestClient, make: Factory, thing: Package
) -> None:
    release = make.release(thing, "1.11", yanked=True)
    release.yanked_reason = "Broke the widget API"
    make.db.flush()

    history = client.get("/project/thing/").text
    assert "yanked" in history
    assert "Reason: Broke the widget API" in history
    # Yanked releases are never the latest.
    assert "pip install Thing</code>" in history

    page = client.get("/project/thing/1.11/").text
    assert "This release has been yanked." in page
    assert "Reason: Broke the widget API" in page
    assert "pip install Thing==1.11" in page


def test_a_project_whose_releases_are_all_yanked_shows_the_newest(
    client: TestClient, make: Factory
) -> None:
    package = make.package("gone", versions=())
    make.release(package, "1.0", yanked=True)
    make.release(package, "2.0", yanked=True)

    body = client.get("/project/gone/").text

    assert "pip install gone==2.0" in body
    assert "This release has been yanked." in body
    assert "No reason was given." in body


def test_a_project_without_releases_still_has_a_page(client: TestClient, make: Factory) -> None:
    make.package("empty-shell", versions=(), description=None)

    response = client.get("/project/empty-shell/")

    assert response.status_code == 200
    assert "No releases yet." in response.text
    assert "pip install" not in response.text
    assert "has not provided a project description" in response.text


def test_files_of_the_shown_release_with_size_and_sha256(
    client: TestClient, make: Factory, thing: Package
) -> None:
    release = next(r for r in thing.releases if r.version == "1.9")
    wheel = release.files[0]
    sdist = make.file(release, packagetype="sdist")
    wheel.storage_path = f"ab/cd/{'e' * 60}/{wheel.filename}"
    sdist.url = "https://files.example.org/thing-1.9.tar.gz"
    make.db.flush()

    body = client.get("/project/thing/1.9/").text
    files = body[body.index('id="files"') :]

    assert f'<a href="/packages/ab/cd/{"e" * 60}/thing-1.9-py3-none-any.whl">' in files
    assert '<a href="https://files.example.org/thing-1.9.tar.gz">thing-1.9.tar.gz</a>' in files
    assert wheel.sha256_digest in files
    assert sdist.sha256_digest in files
    assert "Wheel" in files
    assert "Source" in files
    assert f"{wheel.size / 1000:.1f} kB" in files
    # Only the shown release's files.
    assert "thing-1.10-py3-none-any.whl" not in files


@pytest.mark.parametrize(
    ("content_type", "source", "expected"),
    [
        ("text/x-rst", "Title\n=====\n\nSome *emphasis*.", "<em>emphasis</em>"),
        ("text/markdown", "Some _emphasis_.", "<em>emphasis</em>"),
        ("text/plain", "Plain <b>text</b>", "Plain &lt;b&gt;text&lt;/b&gt;"),
        (None, "Some *emphasis*.", "<em>emphasis</em>"),
    ],
)
def test_readme_is_rendered_at_view_time_when_never_rendered(
    client: TestClient,
    make: Factory,
    db: Session,
    content_type: str | None,
    source: str,
    expected: str,
) -> None:
    package = make.package("docs-later", description=source, description_content_type=content_type)
    assert package.description_html is None

    body = client.get("/project/docs-later/").text

    assert expected in body
    # A page view is a read: the rendering is not stored.
    db.expire_all()
    stored = db.scalar(sa.select(Package.description_html).where(Package.id == "docs-later"))
    assert stored is None


def test_stored_readme_html_is_used_as_is(client: TestClient, make: Factory) -> None:
    package = make.package("prerendered", description="*source*")
    package.description_html = "<p>rendered at upload</p>"
    make.db.flush()

    body = client.get("/project/prerendered/").text

    assert "<p>rendered at upload</p>" in body
    assert "<em>source</em>" not in body


def test_unsafe_home_page_links_are_not_linked(client: TestClient, make: Factory) -> None:
    package = make.package("sneaky")
    package.home_page = "javascript:alert(1)"
    make.db.flush()

    body = client.get("/project/sneaky/").text

    assert "javascript:" not in body
    assert "Homepage" not in body


def test_copy_button_uses_a_script_file_not_inline_script(
    client: TestClient, thing: Package
) -> None:
    body = client.get("/project/thing/").text

    assert '<script src="/static/copy.js" defer></script>' in body
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None
    assert 'data-copy-target="pip-command"' in body
    script = client.get("/static/copy.js")
    assert script.status_code == 200
    assert "clipboard" in script.text


# --- URLs: one canonical URL per page -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/project/Thing/", "/project/thing/"),
        ("/project/THING/1.9/", "/project/thing/1.9/"),
        ("/project/thing", "/project/thing/"),
        ("/project/Thing", "/project/thing/"),
        ("/project/thing/1.9", "/project/thing/1.9/"),
        ("/project/thing/1.10.0/", "/project/thing/1.10/"),
        ("/project/Thing/1.10.0", "/project/thing/1.10/"),
    ],
)
def test_other_spellings_redirect_permanently(
    client: TestClient, thing: Package, path: str, location: str
) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 301
    assert response.headers["location"] == location
    assert client.get(location).status_code == 200


def test_separator_variants_of_a_name_redirect(client: TestClient, make: Factory) -> None:
    make.package("Flask_SQL.Thing")

    response = client.get("/project/Flask_SQL.Thing/", follow_redirects=False)

    assert response.status_code == 301
    assert response.headers["location"] == "/project/flask-sql-thing/"
    assert "Flask_SQL.Thing" in client.get("/project/flask-sql-thing/").text


@pytest.mark.parametrize("version", ["1.0+local.7", "1!2.0", "2.0.post1", "1.0.dev3", "0.9-doduo"])
def test_every_stored_version_has_a_working_url(
    client: TestClient, make: Factory, version: str
) -> None:
    package = make.package("odd-versions", versions=(version,))

    body = client.get("/project/odd-versions/").text
    (url,) = release_urls(body)
    response = client.get(url, follow_redirects=False)

    assert response.status_code == 200, url
    assert f'<span class="project-version">{version}</span>' in response.text
    assert package.releases[0].version == version


def test_a_version_with_a_slash_still_has_a_url(client: TestClient, make: Factory) -> None:
    make.package("slashed", versions=("1.0/beta",))

    body = client.get("/project/slashed/").text

    assert release_urls(body) == ["/project/slashed/1.0%2Fbeta/"]
    assert client.get("/project/slashed/1.0%2Fbeta/").status_code == 200


# --- Bad input: a 404 page, never a 500 -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/project/no-such-project/",
        "/project/no-such-project/1.0/",
        "/project/..%2Fx/",
        "/project/%2E%2E/",
        "/project/%00/",
        "/project/thing%00/",
        "/project/%ff/",
        "/project/-leading-dash/",
        "/project/" + "a" * 10_000 + "/",
        "/project/" + "a" * 201 + "/",
        "/project/thing/9.9/",
        "/project/thing/not a version/",
        "/project/thing/%00/",
        "/project/thing/" + "9" * 10_000 + "/",
        "/project/thing//",
        "/project/thing/1.0/extra/",
        "/project/thing/..%2F..%2Fetc%2Fpasswd/",
    ],
)
def test_unknown_projects_and_versions_get_a_404_page(
    client: TestClient, thing: Package, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text


def test_the_404_names_what_was_missing(client: TestClient, thing: Package) -> None:
    assert "There is no project named “nothing-here”." in client.get("/project/nothing-here/").text
    assert "Thing has no release “9.9”." in client.get("/project/thing/9.9/").text


# --- Efficiency ------------------------------------------------------------------------


@pytest.fixture
def select_counter(connection: sa.Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(connection, "before_cursor_execute", count)
    yield statements
    sa.event.remove(connection, "before_cursor_execute", count)


def test_a_project_page_costs_the_same_queries_for_any_number_of_releases(
    client: TestClient, make: Factory, select_counter: list[str]
) -> None:
    languages = (make.language("Python 3"), make.language("Cython"))
    small = make.package("small", versions=("1.0",), owner=make.user(), languages=languages)
    big = make.package(
        "big",
        versions=tuple(f"1.{minor}" for minor in range(40)),
        owner=make.user(),
        languages=languages,
    )
    for package in (small, big):
        for release in package.releases:
            make.file(release, packagetype="sdist")
    make.db.flush()
    # The site flags are read once per worker every few seconds, not per page: read now.
    assert client.get("/").status_code == 200

    select_counter.clear()
    assert client.get("/project/small/").status_code == 200
    small_queries = len(select_counter)
    select_counter.clear()
    assert client.get("/project/big/").status_code == 200
    big_queries = len(select_counter)
    select_counter.clear()
    assert client.get("/project/big/1.3/").status_code == 200

    assert small_queries == big_queries == len(select_counter)
    # One of them the shown release's own metadata (release_metadata), whatever the count.
    assert big_queries <= 9


def test_home_page_links_to_release_pages_with_odd_versions(
    client: TestClient, make: Factory
) -> None:
    make.package("odd", versions=("1.0+cpu", "1!2.0"))

    home = client.get("/").text
    links = re.findall(r'<a href="(/project/odd/[^"]+)">', home)

    assert sorted(links) == ["/project/odd/1%212.0/", "/project/odd/1.0%2Bcpu/"]
    for link in links:
        assert client.get(link, follow_redirects=False).status_code == 200


# --- Through a real server: the same URLs over real HTTP --------------------------------


def fetch(server: LiveServer, path: str) -> tuple[int, str | None, str]:
    """Status, Location and body of a GET sent exactly as written (no client clean-up)."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("location"), response.read().decode()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served(live_server: LiveServer) -> LiveServer:
    engine = create_engine(live_server.database_url)
    try:
        with Session(engine) as db:
            make = Factory(db, cheap_passwords())
            make.package("Live_Thing", versions=("1.0", "2.0+cpu", "1!3.0", "4.0/beta"))
            db.commit()
    finally:
        engine.dispose()
    return live_server


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/project/live-thing/", 200, None),
        ("/project/live-thing/2.0+cpu/", 200, None),
        ("/project/live-thing/2.0%2Bcpu/", 200, None),
        ("/project/live-thing/1!3.0/", 200, None),
        ("/project/live-thing/4.0%2Fbeta/", 200, None),
        ("/project/Live_Thing/2.0+cpu/", 301, "/project/live-thing/2.0+cpu/"),
        ("/project/Live.Thing", 301, "/project/live-thing/"),
        ("/project/../x/", 404, None),
        ("/project/..%2Fx/", 404, None),
        ("/project/%00/", 404, None),
        ("/project/live-thing/%00/", 404, None),
        ("/project/" + "n" * 10_000 + "/", 404, None),
        ("/project/live-thing/9.9/", 404, None),
    ],
)
def test_project_urls_over_real_http(
    served: LiveServer, path: str, status: int, location: str | None
) -> None:
    got_status, got_location, body = fetch(served, path)

    assert got_status == status, body[:500]
    if location is not None:
        assert got_location is not None
        assert urlsplit(got_location).path == location
