"""Signing in and out through the web forms, as a browser does, CSRF token included.

These take the client to act with rather than binding one: the account tests often drive
two browsers at once (a laptop and a phone, an owner and a stranger), and each keeps its
own cookies.
"""

from __future__ import annotations

import re

from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.passwords import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str) -> str:
    """The CSRF token of the form on ``path``, as the client's session issued it."""
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "") -> Response:
    """Post the login form; the redirect is left for the test to look at."""
    token = csrf_from(client, "/account/login")
    return client.post(
        "/account/login",
        data={"csrf_token": token, "email": email, "password": password, "next": next},
        follow_redirects=False,
    )


def log_out(client: TestClient) -> Response:
    """Post the logout button of the account page."""
    return client.post("/account/logout", data={"csrf_token": csrf_from(client, "/account")})


def elsewhere(app: Starlette, ip: str = "192.0.2.77") -> TestClient:
    """A second browser, on another machine: its own cookies, its own client address."""
    return TestClient(app, base_url="http://testserver", client=(ip, 50000))
