"""The project page as PyPI's: tabs, files by kind with their tags and hashes, every link with
its icon, classifiers that search, README code highlighted and external images fenced.

The project is uploaded through the upload API, as twine sends it, so the page shows what a
real upload stores.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from tests.helpers.accounts import log_in
from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from tests.helpers.image_server import PNG, image_host
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.config import Settings
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.web.views.projects import HISTORY_PAGE_SIZE

ADA = basic_auth("ada@example.com", PASSWORD)
README = """# Gizmo

```python
import gizmo
print("hello")
```

![build](https://ci.example/badge.svg) ![logo](https://cdn.example/logo.png)
"""
GIZMO = Project(
    "gizmo",
    "2.0",
    summary="Makes gizmos",
    description=README,
    description_content_type="text/markdown",
    classifiers=[
        "Development Status :: 5 - Production/Stable",
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
    ],
    extra_headers=[
        "Keywords: gadgets,widgets",
        "Provides-Extra: fast",
        "Provides-Extra: docs",
        "Home-page: https://gizmo.example/",
        "Project-URL: Source, https://code.example/gizmo",
        "Project-URL: Documentation, https://docs.example/gizmo",
        "Project-URL: Release Notes, https://gizmo.example/changes",
        "Project-URL: Bug Tracker, https://code.example/gizmo/issues",
        "Project-URL: Sponsor, https://fund.example/gizmo",
        "Project-URL: Chat, https://chat.example/gizmo",
        "Project-URL: Mastodon, https://social.example/@gizmo",
    ],
)
WHEEL_TAGS = ("cp311-cp311-manylinux_2_17_x86_64", "cp312-cp312-win_amd64", "py3-none-any")


def upload(client: TestClient, dist: Dist) -> None:
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    response = client.post("/legacy/", data=twine_fields(dist), files=files, headers=ADA)
    assert response.status_code == 200, response.text


@pytest.fixture
def gizmo(client: TestClient, ada: User) -> Project:
    upload(client, sdist(GIZMO))
    for tag in WHEEL_TAGS:
        upload(client, wheel(GIZMO, tag))
    return GIZMO


def section(body: str, name: str) -> str:
    start = body.index(f'<section id="{name}"')
    return body[start : body.index("</section>", start)]


# --- tabs ------------------------------------------------------------------------------


def test_the_three_views_are_tabs_over_panels(client: TestClient, gizmo: Project) -> None:
    body = client.get("/project/gizmo/").text

    nav = body[body.index('<nav class="tabs"') : body.index("</nav>", body.index('class="tabs"'))]
    assert re.findall(r'href="(#\w+)"', nav) == ["#description", "#history", "#files"]
    assert "Release history" in nav and "(1)" in nav
    assert "Download files" in nav and "(4)" in nav
    for name in ("description", "history", "files"):
        assert f'<section id="{name}" class="card tab-panel">' in body
    # The tabs come before the README in the page, so that phones show them first.
    assert body.index('class="tabs"') < body.index('class="readme"')
    assert body.index('id="pip-command"') < body.index('class="readme"')
    css = client.get("/static/site.css").text
    assert ".tab-panels:has(> .tab-panel:target) > .tab-panel:not(:target)" in css


def test_a_long_history_is_paged(client: TestClient, make: Factory) -> None:
    package = make.package("many", versions=())
    start = dt.datetime(2020, 1, 1)
    for n in range(HISTORY_PAGE_SIZE + 5):
        make.release(package, f"1.{n}", created=start + dt.timedelta(days=n), with_file=False)

    first = section(client.get("/project/many/").text, "history")
    second = section(client.get("/project/many/?history=2").text, "history")

    assert first.count('<li class="current"') + first.count("<li>") >= HISTORY_PAGE_SIZE
    assert '<a href="/project/many/1.44/">' in first
    assert '<a href="/project/many/1.4/">' not in first
    assert 'href="?history=2#history" rel="next">Older releases</a>' in first
    assert f"Releases 1 to {HISTORY_PAGE_SIZE} of {HISTORY_PAGE_SIZE + 5}" in first
    assert '<a href="/project/many/1.4/">' in second
    assert '<a href="/project/many/1.0/">' in second
    assert '<a href="/project/many/1.44/">' not in second
    assert 'href="?history=1#history" rel="prev">Newer releases</a>' in second


def test_an_old_release_page_opens_its_history_at_its_own_row(
    client: TestClient, make: Factory
) -> None:
    package = make.package("many", versions=())
    for n in range(HISTORY_PAGE_SIZE + 5):
        make.release(package, f"1.{n}", with_file=False)

    history = section(client.get("/project/many/1.2/").text, "history")

    assert '<li class="current" aria-current="page">' in history
    assert "Page 2 of 2" in history


@pytest.mark.parametrize(
    ("page", "message"),
    [("3", "there is no page 3"), ("0", "Page numbers start at 1"), ("x", "whole number")],
)
def test_a_history_page_that_is_not_there_is_a_400(
    client: TestClient, gizmo: Project, page: str, message: str
) -> None:
    response = client.get(f"/project/gizmo/?history={page}")

    assert response.status_code == 400
    assert message in unescape(response.text)


# --- files -----------------------------------------------------------------------------


def test_files_are_split_sdist_first_with_readable_tags(client: TestClient, gizmo: Project) -> None:
    files = section(client.get("/project/gizmo/").text, "files")

    source = files.index("Source distribution</h3>")
    built = files.index("Built distributions</h3>")
    assert source < files.index("gizmo-2.0.tar.gz") < built
    assert built < files.index("gizmo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert "CPython 3.11, manylinux: glibc 2.17+ x86-64" in files
    assert "CPython 3.12, Windows x86-64" in files
    assert '<li class="file-tags">Python 3</li>' in files


def test_each_file_has_three_copyable_hashes(
    client: TestClient, gizmo: Project, make: Factory
) -> None:
    files = section(client.get("/project/gizmo/").text, "files")
    package = make.db.get(Package, "gizmo")
    assert package is not None

    for release_file in package.releases[0].files:
        for algorithm, digest in (
            ("sha256", release_file.sha256_digest),
            ("md5", release_file.md5_digest),
            ("blake2b-256", release_file.blake2_256_digest),
        ):
            element = f"{algorithm}-{release_file.filename}"
            assert f'<code id="{element}">{digest}</code>' in files
            assert f'data-copy-target="{element}"' in files
    assert files.count('<th scope="row">BLAKE2b-256</th>') == 4


def test_the_file_filter_is_a_script_file_that_starts_hidden(
    client: TestClient, gizmo: Project
) -> None:
    body = client.get("/project/gizmo/").text

    assert '<script src="/static/file-filter.js" defer></script>' in body
    assert '<p class="file-filter" hidden>' in body
    assert 'data-filter="gizmo-2.0-cp312-cp312-win_amd64.whl cpython 3.12, windows x86-64"' in body
    script = client.get("/static/file-filter.js")
    assert script.status_code == 200
    assert "file-filter" in script.text


# --- links, classifiers, keywords, extras, dates ---------------------------------------


def test_every_project_url_is_shown_with_its_icon(client: TestClient, gizmo: Project) -> None:
    body = client.get("/project/gizmo/").text
    links = body[body.index('class="project-links"') :]
    links = links[: links.index("</ul>")]

    found = re.findall(
        r'<li class="link-(\w+)"><a href="([^"]+)"[^>]*><svg[^>]*>.*?<span>([^<]+)</span>',
        links,
        re.S,
    )
    assert found == [
        ("homepage", "https://gizmo.example/", "Homepage"),
        ("source", "https://code.example/gizmo", "Source"),
        ("documentation", "https://docs.example/gizmo", "Documentation"),
        ("changelog", "https://gizmo.example/changes", "Release Notes"),
        ("issues", "https://code.example/gizmo/issues", "Bug Tracker"),
        ("funding", "https://fund.example/gizmo", "Sponsor"),
        ("chat", "https://chat.example/gizmo", "Chat"),
        ("link", "https://social.example/@gizmo", "Mastodon"),
    ]


def test_classifiers_are_grouped_and_each_searches(client: TestClient, gizmo: Project) -> None:
    body = client.get("/project/gizmo/").text
    classifiers = body[body.index('<ul class="classifiers">') :]

    assert "<strong>Development Status</strong>" in classifiers
    href = "/search?c=Framework%20%3A%3A%20Flask"
    assert f'<a href="{href}"' in classifiers
    assert ">5 - Production/Stable</a>" in classifiers
    results = client.get(href)
    assert results.status_code == 200
    assert 'href="/project/gizmo/"' in results.text


def test_keywords_extras_and_the_release_date(client: TestClient, gizmo: Project) -> None:
    body = client.get("/project/gizmo/").text

    assert '<li><a href="/search?q=gadgets">gadgets</a></li>' in body
    assert '<li><a href="/search?q=widgets">widgets</a></li>' in body
    extras = body[body.index('<ul class="extras tags">') :]
    assert "<li><code>fast</code></li>" in extras
    assert "<li><code>docs</code></li>" in extras
    assert re.search(r'Released: <time datetime="[^"]+">\w{3} \d{1,2}, \d{4}</time>', body)


def test_manage_project_is_offered_to_owners_only(
    client: TestClient, gizmo: Project, make: Factory
) -> None:
    button = '<a class="button secondary small manage-button" href="/manage/project/gizmo/">'
    assert button not in client.get("/project/gizmo/").text

    keeper = make.user(name="Kim Keeper", email="kim@example.com")
    package = make.db.get(Package, "gizmo")
    make.db.add(Maintainer(user=keeper, package=package, role=Role.MAINTAINER))
    make.db.flush()
    assert log_in(client, "kim@example.com").status_code == 303
    # A maintainer may upload but not manage (the manage page answers them 403).
    assert button not in client.get("/project/gizmo/").text

    assert log_in(client, "ada@example.com").status_code == 303
    assert button in client.get("/project/gizmo/").text
    assert client.get("/manage/project/gizmo/").status_code == 200


# --- the README ------------------------------------------------------------------------


def test_readme_code_is_highlighted_with_pygments_classes(
    client: TestClient, gizmo: Project
) -> None:
    body = client.get("/project/gizmo/").text
    readme = body[body.index('class="readme"') :]

    assert '<span class="kn">import</span>' in readme
    assert '<link rel="stylesheet" href="/static/pygments.css">' in body
    css = client.get("/static/pygments.css")
    assert css.status_code == 200
    assert ".readme pre .kn " in css.text


def readme_images(body: str) -> list[str]:
    readme = body[body.index('class="readme"') :]
    return [unescape(src) for src in re.findall(r'<img src="([^"]+)"', readme)]


@pytest.fixture
def images() -> str:
    return "proxy"


@pytest.fixture
def settings(settings: Settings, images: str) -> Settings:
    # The tests' image host is on loopback, which the proxy refuses unless told otherwise.
    return replace(settings, readme_images=images, readme_images_private=True)


def test_by_default_external_images_go_through_the_proxy() -> None:
    assert Settings().readme_images == "proxy"
    assert Settings.from_env({"WHEELYARD_SECRET_KEY": "k"}).readme_images == "proxy"
    with pytest.raises(ValueError, match="WHEELYARD_README_IMAGES"):
        Settings.from_env({"WHEELYARD_SECRET_KEY": "k", "WHEELYARD_README_IMAGES": "maybe"})


def test_proxy_mode_serves_readme_images_through_the_index(
    client: TestClient, gizmo: Project
) -> None:
    sources = readme_images(client.get("/project/gizmo/").text)

    assert len(sources) == 2
    assert all(src.startswith("/readme-image?url=") for src in sources)
    assert parse_qs(urlsplit(sources[0]).query)["url"] == ["https://ci.example/badge.svg"]


def test_the_proxy_fetches_a_signed_image(client: TestClient, make: Factory) -> None:
    with image_host({"/logo.png": (200, {"Content-Type": "image/png"}, PNG)}) as host:
        make.package(
            "pictured",
            description=f"![logo]({host.url('/logo.png')})",
            description_content_type="text/markdown",
        )
        (src,) = readme_images(client.get("/project/pictured/").text)

        response = client.get(src)

    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    # An SVG opened on its own would run no script in the site's origin.
    assert "sandbox" in response.headers["content-security-policy"]
    assert host.requests == ["/logo.png"]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "Give the image's address"),
        ("?url=http%3A%2F%2F127.0.0.1%2Fx.png", 400, "Give the image's address"),
        ("?url=http%3A%2F%2F127.0.0.1%2Fx.png&sig=" + "0" * 32, 403, "not an image of a README"),
    ],
)
def test_the_proxy_fetches_nothing_unsigned(
    client: TestClient, query: str, status: int, message: str
) -> None:
    response = client.get("/readme-image" + query)

    assert response.status_code == status
    assert message in unescape(response.text)


def test_a_signed_image_that_is_no_image_is_refused(client: TestClient, make: Factory) -> None:
    with image_host({"/page": (200, {"Content-Type": "text/html"}, b"<p>no</p>")}) as host:
        make.package(
            "not-pictured",
            description=f"![logo]({host.url('/page')})",
            description_content_type="text/markdown",
        )
        (src,) = readme_images(client.get("/project/not-pictured/").text)
        response = client.get(src)

    assert response.status_code == 502
    assert "not an image (text/html)" in unescape(response.text)


@pytest.mark.parametrize("images", ["off"])
def test_off_drops_external_images_keeping_their_alt_text(
    client: TestClient, gizmo: Project, images: str
) -> None:
    body = client.get("/project/gizmo/").text

    assert readme_images(body) == []
    assert '<span class="readme-image-dropped">build</span>' in body
    assert "ci.example" not in body
    assert client.get("/readme-image?url=x&sig=y").status_code == 404


@pytest.mark.parametrize("images", ["direct"])
def test_direct_leaves_external_images_alone(
    client: TestClient, gizmo: Project, images: str
) -> None:
    body = client.get("/project/gizmo/").text

    assert readme_images(body) == ["https://ci.example/badge.svg", "https://cdn.example/logo.png"]
