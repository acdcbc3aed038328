"""Where a signed-out visitor is sent, and which ``next`` targets are followed."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from wheelyard.web.session import login_redirect, safe_next


def request_for(path: str, query: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": [],
        }
    )


@pytest.mark.parametrize("target", ["/", "/account/tokens", "/project/demo/?tab=files"])
def test_a_path_on_this_site_is_followed(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "account",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\tevil",
        "/account\n",
        "/a b",
        "/\x7f",
        "/" + "a" * 2048,
    ],
)
def test_anything_that_could_leave_the_site_falls_back(target: str | None) -> None:
    assert safe_next(target) == "/account"
    assert safe_next(target, default="/") == "/"


def test_the_login_redirect_comes_back_to_the_page_with_its_query() -> None:
    response = login_redirect(request_for("/account/tokens", "sort=new"))
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Faccount%2Ftokens%3Fsort%3Dnew"
