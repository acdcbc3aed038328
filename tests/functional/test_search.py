"""Search over HTTP: /search?q= with ranking, filters, pagination and the inputs people try."""

from __future__ import annotations

import re
from html import unescape

import pytest
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from wheelyard.config import Settings
from wheelyard.services.discovery import search
from wheelyard.services.projects import classifiers


def result_names(body: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<span class="name">([^<]+)</span>', body)]


@pytest.fixture
def projects(make: Factory) -> None:
    make.package("flask-login", summary="User sessions for web apps", versions=("0.6.3",))
    make.package("Flask", summary="A micro web framework", versions=("3.0.0", "3.1.0rc1"))
    make.package("quart", summary="An async framework, like flask", versions=("0.19",))
    make.package("pytest-flask", summary="pytest helpers", versions=("1.3",))
    make.package("requests", summary="HTTP for humans", versions=("2.32",))


def test_exact_name_then_prefix_then_contains_then_summary(
    client: TestClient, projects: None
) -> None:
    response = client.get("/search", params={"q": "flask"})

    assert response.status_code == 200
    assert result_names(response.text) == ["Flask", "flask-login", "pytest-flask", "quart"]
    assert "4 projects for “flask”" in response.text


def test_results_show_the_latest_version_and_link_to_the_project(
    client: TestClient, projects: None
) -> None:
    body = client.get("/search", params={"q": "flask"}).text

    # The latest final release, not the newer pre-release.
    assert '<a href="/project/flask/">\n      <span class="name">Flask</span>' in body
    assert '<span class="version">3.0.0</span>' in body
    assert "A micro web framework" in body


def test_search_is_case_insensitive_and_matches_summaries(
    client: TestClient, projects: None
) -> None:
    assert result_names(client.get("/search?q=HUMANS").text) == ["requests"]
    assert result_names(client.get("/search?q=Web+Framework").text) == ["Flask"]
    # Every word must match, in any order and in the name or the summary.
    assert result_names(client.get("/search?q=framework+async").text) == ["quart"]


def test_a_non_normalized_name_finds_the_project(client: TestClient, projects: None) -> None:
    assert result_names(client.get("/search?q=FLASK_LOGIN").text) == ["flask-login"]


def test_no_results(client: TestClient, projects: None) -> None:
    response = client.get("/search?q=nothing-like-this")
    assert response.status_code == 200
    assert "No projects match “nothing-like-this”." in response.text


def test_punctuation_is_not_query_syntax(client: TestClient, make: Factory) -> None:
    make.package("percent", summary="Adds 100% coverage")
    make.package("plain", summary="Adds 100 tests")
    make.package("under_score", summary="x")

    # Only words are searched for: "100%" is the word 100, "%" alone is nothing at all.
    assert result_names(client.get("/search", params={"q": "100%"}).text) == ["percent", "plain"]
    response = client.get("/search", params={"q": "%"})
    assert response.status_code == 200
    assert result_names(response.text) == []
    # "_" separates words, as in names: "under_score" is the words "under" and "score".
    assert result_names(client.get("/search", params={"q": "r_s"}).text) == []
    assert result_names(client.get("/search", params={"q": "score"}).text) == ["under_score"]


def test_words_in_the_readme_are_found_after_the_names(client: TestClient, make: Factory) -> None:
    make.package("scanner", summary="Reads things", description="Handles **barcodes** and QR.")
    make.package("barcodes", summary="Barcode fonts")

    assert result_names(client.get("/search?q=barcodes").text) == ["barcodes", "scanner"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "*",
        "flask*",
        "AND",
        "OR NOT NEAR",
        "name:flask",
        "{name}:flask",
        "(",
        "flask)",
        "^flask",
        "a & b | !c <-> d",
        "\\",
        "';--",
        "ünïcödé",
        "日本語",
        "😀",
        "\u0301",
        "x" * 200,
        "flask " * 33,
    ],
)
def test_hostile_queries_are_never_a_500(client: TestClient, projects: None, query: str) -> None:
    response = client.get("/search", params={"q": query})

    assert response.status_code == 200
    assert 'name="q"' in response.text


def test_the_query_is_escaped_in_the_page(client: TestClient, projects: None) -> None:
    body = client.get("/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_results_are_paginated_with_the_total(
    client: TestClient, make: Factory, settings: Settings
) -> None:
    total = settings.page_size * 2 + 3
    for n in range(total):
        make.package(f"widget-{n:03d}", summary="widgets")

    first = client.get("/search?q=widget").text
    third = client.get("/search?q=widget&page=3").text

    assert f"{total} projects for “widget”" in first
    assert len(result_names(first)) == settings.page_size
    assert result_names(first)[0] == "widget-000"
    assert 'href="/search?q=widget&amp;page=2" rel="next"' in first
    assert "Page 1 of 3" in first
    assert result_names(third) == ["widget-040", "widget-041", "widget-042"]
    assert 'href="/search?q=widget&amp;page=2" rel="prev"' in third
    assert 'rel="next"' not in third


def test_pagination_links_keep_the_query_encoded(
    client: TestClient, make: Factory, settings: Settings
) -> None:
    for n in range(settings.page_size + 1):
        make.package(f"cpp-{n:02d}", summary="bindings for c++ & friends")

    body = client.get("/search", params={"q": "c++ & friends"}).text

    assert 'href="/search?q=c%2B%2B%20%26%20friends&amp;page=2"' in body
    second = client.get("/search?q=c%2B%2B%20%26%20friends&page=2")
    assert second.status_code == 200
    assert result_names(second.text) == [f"cpp-{settings.page_size:02d}"]


@pytest.mark.parametrize("query", ["", "q=", "q=+++", "q=%20%09"])
def test_an_empty_query_shows_the_form(client: TestClient, projects: None, query: str) -> None:
    response = client.get(f"/search?{query}")

    assert response.status_code == 200
    assert 'name="q"' in response.text
    assert "Type part of a project" in response.text
    assert result_names(response.text) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=flask&page=-1", "The page must be a whole number"),
        ("q=flask&page=abc", "The page must be a whole number"),
        ("q=flask&page=0", "Page numbers start at 1."),
        ("q=flask&page=1.5", "The page must be a whole number"),
        ("q=flask&page=%EF%BC%92", "The page must be a whole number"),  # fullwidth 2
        ("q=flask&page=" + "9" * 5000, "The page must be a whole number"),
        ("q=" + "x" * 10_000, "at most 200 characters long; yours has 10,000."),
        ("q=flask%00", "cannot contain NUL characters"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(
    client: TestClient, projects: None, query: str, message: str
) -> None:
    response = client.get(f"/search?{query}")

    assert response.status_code == 400
    assert message in response.text
    # The form is still there to correct the query.
    assert 'name="q"' in response.text


@pytest.mark.parametrize("page", ["2", "999999", "99999999999"])
def test_a_page_past_the_end_is_a_404(client: TestClient, projects: None, page: str) -> None:
    response = client.get(f"/search?q=flask&page={page}")

    assert response.status_code == 404
    assert "the last page is 1" in response.text


def test_page_one_of_nothing_is_fine(client: TestClient, projects: None) -> None:
    assert client.get("/search?q=zzz&page=1").status_code == 200


def test_the_header_search_box_keeps_the_query(client: TestClient, projects: None) -> None:
    body = client.get("/search?q=flask").text
    assert 'aria-label="Search projects" value="flask"' in body


def test_search_with_a_trailing_slash_still_works(client: TestClient, projects: None) -> None:
    response = client.get("/search/?q=flask")
    assert response.status_code == 200
    assert result_names(response.text)[0] == "Flask"


@pytest.fixture
def licensed(make: Factory) -> None:
    mit, apache = make.license("MIT"), make.license("Apache-2.0")
    py3, cython = make.language("Python 3"), make.language("Cython")
    one = make.package("web-one", summary="web tools", license=mit, languages=(py3,))
    make.package("web-two", summary="web tools", license=apache, languages=(py3, cython))
    make.package("web-three", summary="web tools", license=mit, languages=(cython,))
    make.package("web-four", summary="web tools")
    make.package("other", summary="unrelated", license=mit)
    classifiers.set_classifiers(make.db, one, ["Framework :: Django", "Framework :: Django :: 5.0"])
    make.db.flush()


def facet_links(body: str, facet: str) -> list[tuple[str, str, str]]:
    """(href, label, count) of each link in one facet of the sidebar."""
    section = body.split(f'data-facet="{facet}"', 1)[1].split("</section>", 1)[0]
    return [
        (unescape(href), unescape(label), count)
        for href, label, count in re.findall(
            r'<a href="([^"]+)">([^<]+)</a> <span class="count">\(([\d,]+)\)</span>', section
        )
    ]


def test_facets_count_the_results_and_link_to_filtered_searches(
    client: TestClient, licensed: None
) -> None:
    body = client.get("/search?q=web").text

    assert "4 projects for “web”" in body
    assert facet_links(body, "license") == [
        ("/search?q=web&license=MIT", "MIT", "2"),
        ("/search?q=web&license=Apache-2.0", "Apache-2.0", "1"),
    ]
    assert facet_links(body, "language") == [
        ("/search?q=web&language=Cython", "Cython", "2"),
        ("/search?q=web&language=Python%203", "Python 3", "2"),
    ]


def test_a_license_filter_narrows_the_results(client: TestClient, licensed: None) -> None:
    response = client.get("/search?q=web&license=MIT")

    assert response.status_code == 200
    body = response.text
    assert result_names(body) == ["web-one", "web-three"]
    assert "2 projects for “web”" in body
    # The filter is shown, can be dropped, and stays on when the query changes.
    assert "License: MIT" in body
    assert '<a href="/search?q=web" aria-label="Remove the license filter">' in body
    assert '<input type="hidden" name="license" value="MIT">' in body


def test_language_and_license_filters_combine(client: TestClient, licensed: None) -> None:
    body = client.get("/search", params={"q": "web", "license": "MIT", "language": "Python 3"}).text
    assert result_names(body) == ["web-one"]
    assert (
        '<a href="/search?q=web&amp;license=MIT" aria-label="Remove the language filter">' in body
    )


def test_a_classifier_filter_takes_its_children(client: TestClient, licensed: None) -> None:
    body = client.get("/search", params={"q": "web", "c": "Framework :: Django"}).text

    assert result_names(body) == ["web-one"]
    assert '<input type="hidden" name="c" value="Framework :: Django">' in body
    assert 'href="/search?q=web" aria-label="Remove the filter Framework :: Django"' in body


def test_filters_alone_list_every_matching_project(client: TestClient, licensed: None) -> None:
    response = client.get("/search?license=MIT")

    assert response.status_code == 200
    assert result_names(response.text) == ["other", "web-one", "web-three"]
    assert "3 projects" in response.text


def test_filters_that_match_nothing(client: TestClient, licensed: None) -> None:
    response = client.get("/search?q=web&license=Nonexistent")

    assert response.status_code == 200
    assert "No projects match “web” with these filters." in response.text


def test_pagination_keeps_the_filters(
    client: TestClient, make: Factory, settings: Settings
) -> None:
    mit = make.license("MIT")
    for n in range(settings.page_size + 1):
        make.package(f"gizmo-{n:02d}", summary="gizmos", license=mit)

    first = client.get("/search?q=gizmo&license=MIT").text
    assert 'href="/search?q=gizmo&amp;license=MIT&amp;page=2" rel="next"' in first
    second = client.get("/search?q=gizmo&license=MIT&page=2")
    assert result_names(second.text) == [f"gizmo-{settings.page_size:02d}"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=web&license=" + "x" * 300, "Filters can be at most 255 characters long."),
        ("q=web&language=Python%003", "Filters cannot contain NUL characters."),
        ("q=web&c=Framework%00", "Filters cannot contain NUL characters."),
        ("q=web" + "".join(f"&c=C{n}" for n in range(11)), "At most 10 classifiers"),
    ],
)
def test_bad_filters_are_a_400_with_the_reason(
    client: TestClient, licensed: None, query: str, message: str
) -> None:
    response = client.get(f"/search?{query}")

    assert response.status_code == 400
    assert message in response.text


def test_more_matches_than_the_window_show_a_lower_bound(
    client: TestClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RESULT_WINDOW", 3)
    for n in range(5):
        make.package(f"doohickey-{n}", summary="doohickeys", license=make.license("MIT"))

    body = client.get("/search?q=doohickey").text

    assert "3+ projects for “doohickey”" in body
    assert "More than 3 projects match: the counts are of those looked at" in body


def test_the_home_page_search_box_leads_here(client: TestClient, projects: None) -> None:
    home = client.get("/").text
    form = re.search(r'<form action="(/search)" method="get"[^>]*>.*?</form>', home, re.DOTALL)
    assert form is not None
    assert 'name="q"' in form.group(0)

    assert result_names(client.get(form.group(1), params={"q": "requests"}).text) == ["requests"]
