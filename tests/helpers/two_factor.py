"""Two-factor login through the web forms: turning it on, and the codes an app would show."""

from __future__ import annotations

import re
import time

import pyotp
from httpx2 import Response
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from

# The secret as the set-up page shows it for typing in, and the recovery codes' list items.
TOTP_SECRET = re.compile(r'<code class="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY_CODE = re.compile(r"<li><code>([a-z2-7-]+)</code></li>")


def post_code(client: TestClient, path: str, code: str, form_page: str) -> Response:
    """Post ``code`` to ``path`` with the CSRF token of the form on ``form_page``."""
    data = {"csrf_token": csrf_from(client, form_page), "code": code}
    return client.post(path, data=data, follow_redirects=False)


def code_at(secret: str, seconds_from_now: float = 0) -> str:
    """The code an authenticator app shows for ``secret`` at that time."""
    return pyotp.TOTP(secret).at(time.time() + seconds_from_now)


def next_code(secret: str) -> str:
    # The code just used is refused from then on; the next step's is accepted already.
    return code_at(secret, 30)


def enable_two_factor(client: TestClient) -> tuple[str, list[str]]:
    """Set up two-factor login for the logged-in client: its secret and recovery codes."""
    page = client.get("/account/two-factor").text
    match = TOTP_SECRET.search(page)
    assert match, "no secret on the set-up page"
    secret = match.group(1).replace(" ", "")
    response = post_code(
        client, "/account/two-factor/enable", code_at(secret), "/account/two-factor"
    )
    assert response.status_code == 200
    return secret, RECOVERY_CODE.findall(response.text)
