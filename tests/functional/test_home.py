from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from tests.helpers.factories import Factory


def test_home_shows_counts_and_newest_releases(client: TestClient, make: Factory) -> None:
    old = make.package("old-project", versions=(), summary="Old and stable")
    make.release(old, "1.0", created=dt.datetime(2020, 1, 1))
    fresh = make.package("fresh-project", versions=(), summary="Brand new things")
    make.release(fresh, "0.1", created=dt.datetime(2030, 1, 1))
    make.user()

    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert "<strong>2</strong> projects" in body
    assert "<strong>2</strong> releases" in body
    assert "<strong>2</strong> files" in body
    assert "<strong>1</strong> users" in body
    assert body.index("fresh-project") < body.index("old-project")
    assert "Brand new things" in body


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_page_is_a_real_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.text
    # The heading is not repeated below it as the bare status phrase.
    assert "Not Found" not in response.text
    assert "There is no page at this address." in response.text


def test_an_empty_index_says_how_to_publish(client: TestClient) -> None:
    body = client.get("/").text
    assert "Nothing has been published yet." in body
    assert "twine upload --repository-url http://testserver/legacy/ -u __token__" in body
    assert "pip install --index-url http://testserver/simple/ NAME" in body


def test_home_links_the_feeds_and_leaves_the_focus_alone(client: TestClient, make: Factory) -> None:
    make.package("some-project", versions=("1.0",))
    body = client.get("/").text
    assert 'href="/rss/updates.xml"' in body.split("<main", 1)[1]
    assert "More releases in the RSS feed" in body
    # The first Tab reaches the skip link, then the header: nothing grabs the focus.
    assert "autofocus" not in body
    assert body.index('class="skip-link" href="#content"') < body.index("<header")
    assert 'id="content"' in body
