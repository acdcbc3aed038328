"""Password reset by email, against a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import logging
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.functional.test_accounts import PASSWORD, actions, csrf_from, elsewhere, log_in
from tests.functional.test_two_factor import enable_two_factor
from tests.helpers.factories import Factory
from tests.helpers.live_server import free_port
from wheelyard.data.password_reset import PasswordReset
from wheelyard.data.user import User
from wheelyard.services.accounts import rate_limit

NEW_PASSWORD = "a fresh new password"
_LINK = re.compile(r"(\S+/account/reset/([A-Za-z0-9_-]+))")
SENT = "If an account exists for that address, we sent it a link"


class Inbox:
    """The messages an SMTP sink received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def only_link(self) -> tuple[str, str]:
        """The reset URL and its token, from the one message received."""
        assert len(self.messages) == 1, f"{len(self.messages)} messages"
        body = self.messages[0].get_content()
        match = _LINK.search(body)
        assert match, body
        return match.group(1), match.group(2)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def mailer(app: Starlette, inbox: tuple[Inbox, int]) -> Inbox:
    """The app sending through the sink; the sink's inbox."""
    handler, port = inbox
    app.state.settings = dataclasses.replace(
        app.state.settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="index@example.com"
    )
    return handler


@pytest.fixture
def ada(make: Factory) -> User:
    return make.user(name="Ada Lovelace", email="ada@example.com")


def ask_for_reset(client: TestClient, address: str) -> Response:
    data = {"csrf_token": csrf_from(client, "/account/reset"), "email": address}
    return client.post("/account/reset", data=data)


def set_new_password(
    client: TestClient, path: str, password: str = NEW_PASSWORD, confirm: str | None = None
) -> Response:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    token = match.group(1) if match else csrf_from(client, "/account/reset")
    data = {
        "csrf_token": token,
        "new_password": password,
        "confirm": password if confirm is None else confirm,
    }
    return client.post(path, data=data)


def path_of(url: str) -> str:
    return "/account/reset/" + url.rsplit("/", 1)[1]


def test_the_emailed_link_sets_a_new_password(
    client: TestClient, db: Session, ada: User, mailer: Inbox
) -> None:
    response = ask_for_reset(client, "ADA@example.com")
    assert response.status_code == 200
    assert SENT in response.text
    message = mailer.messages[0]
    assert message["To"] == "ada@example.com"
    assert message["From"] == "index@example.com"
    assert "Reset your" in message["Subject"]
    url, token = mailer.only_link()
    assert url.startswith("http://testserver/account/reset/")
    assert "60 minutes" in message.get_content()

    form = client.get(path_of(url))
    assert form.status_code == 200
    assert 'name="new_password"' in form.text
    assert form.headers["cache-control"] == "no-store"
    done = set_new_password(client, path_of(url))
    assert done.status_code == 200
    assert "Your password was changed" in done.text
    # Not logged in by the link: the password (and any second factor) is asked for.
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert log_in(client, "ada@example.com", PASSWORD).status_code == 400
    assert log_in(client, "ada@example.com", NEW_PASSWORD).status_code == 303
    assert "password reset requested" in actions(db)
    assert "password reset" in actions(db)
    assert token not in {row.hashed_token for row in db.scalars(sa.select(PasswordReset))}


def test_the_token_is_stored_only_as_a_hash(
    client: TestClient, db: Session, ada: User, mailer: Inbox
) -> None:
    ask_for_reset(client, "ada@example.com")
    _, token = mailer.only_link()
    stored = db.scalars(sa.select(PasswordReset)).one()
    assert stored.hashed_token == hashlib.sha256(token.encode()).hexdigest()
    assert stored.user_id == ada.id


def test_a_link_works_once(client: TestClient, ada: User, mailer: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    assert set_new_password(client, path_of(url)).status_code == 200
    again = set_new_password(client, path_of(url), "yet another password")
    assert again.status_code == 404
    assert "not valid" in again.text
    assert client.get(path_of(url)).status_code == 404
    assert log_in(client, "ada@example.com", NEW_PASSWORD).status_code == 303


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client: TestClient, app: Starlette, db: Session, ada: User, mailer: Inbox
) -> None:
    known = ask_for_reset(client, "ada@example.com")
    unknown = ask_for_reset(elsewhere(app), "nobody@example.com")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", unknown.text) == strip.sub("", known.text)
    assert len(mailer.messages) == 1
    assert actions(db) == ["password reset requested"] * 2


def test_an_inactive_account_gets_no_email(
    client: TestClient, db: Session, ada: User, mailer: Inbox
) -> None:
    ada.is_active = False
    db.flush()
    assert SENT in ask_for_reset(client, "ada@example.com").text
    assert mailer.messages == []


def test_an_expired_link_is_refused(
    client: TestClient, db: Session, ada: User, mailer: Inbox
) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    reset = db.scalars(sa.select(PasswordReset)).one()
    reset.expires = reset.created_date.replace(year=2000)
    db.flush()
    assert client.get(path_of(url)).status_code == 404
    assert set_new_password(client, path_of(url)).status_code == 404
    assert log_in(client, "ada@example.com", NEW_PASSWORD).status_code == 400


def test_the_expiry_follows_the_setting(
    client: TestClient, app: Starlette, db: Session, ada: User, mailer: Inbox
) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, password_reset_minutes=15)
    ask_for_reset(client, "ada@example.com")
    assert "15 minutes" in mailer.messages[0].get_content()
    reset = db.scalars(sa.select(PasswordReset)).one()
    lifetime = (reset.expires - reset.created_date).total_seconds()
    assert 14 * 60 < lifetime < 16 * 60


def test_a_newer_link_replaces_the_older(client: TestClient, ada: User, mailer: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    ask_for_reset(client, "ada@example.com")
    assert len(mailer.messages) == 2
    first, second = (_LINK.search(m.get_content()) for m in mailer.messages)
    assert first and second
    assert client.get(path_of(first.group(1))).status_code == 404
    assert client.get(path_of(second.group(1))).status_code == 200


def test_changing_the_password_voids_a_link(client: TestClient, ada: User, mailer: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    log_in(client, "ada@example.com")
    data = {
        "csrf_token": csrf_from(client, "/account"),
        "current_password": PASSWORD,
        "new_password": "changed while a link was out",
        "confirm": "changed while a link was out",
    }
    assert client.post("/account/password", data=data, follow_redirects=False).status_code == 303
    assert client.get(path_of(url)).status_code == 404


def test_a_reset_ends_every_session(
    client: TestClient, app: Starlette, ada: User, mailer: Inbox
) -> None:
    log_in(client, "ada@example.com")
    assert client.get("/account").status_code == 200
    stranger = elsewhere(app)
    ask_for_reset(stranger, "ada@example.com")
    url, _ = mailer.only_link()
    assert set_new_password(stranger, path_of(url)).status_code == 200
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_reset_does_not_skip_the_second_factor(
    client: TestClient, ada: User, mailer: Inbox
) -> None:
    log_in(client, "ada@example.com")
    enable_two_factor(client)
    client.post("/account/logout", data={"csrf_token": csrf_from(client, "/account")})
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    assert set_new_password(client, path_of(url)).status_code == 200
    response = log_in(client, "ada@example.com", NEW_PASSWORD)
    assert response.headers["location"] == "/account/login/two-factor"


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [("short", "short", "at least 8 characters"), (NEW_PASSWORD, "other", "differ")],
)
def test_a_bad_new_password_keeps_the_link(
    client: TestClient, ada: User, mailer: Inbox, password: str, confirm: str, message: str
) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    response = set_new_password(client, path_of(url), password, confirm)
    assert response.status_code == 400
    assert message in response.text
    assert client.get(path_of(url)).status_code == 200


def test_reset_requests_are_limited_per_address(
    client: TestClient, app: Starlette, ada: User, mailer: Inbox
) -> None:
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        assert ask_for_reset(client, "ada@example.com").status_code == 200
    response = ask_for_reset(elsewhere(app), "ada@example.com")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert len(mailer.messages) == rate_limit.RESETS_PER_ADDRESS.attempts
    # Unknown addresses are limited the same way, so a 429 tells nothing either.
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        assert ask_for_reset(elsewhere(app, "192.0.2.90"), "nobody@example.com").status_code == 200
    assert ask_for_reset(elsewhere(app, "192.0.2.91"), "nobody@example.com").status_code == 429


def test_reset_requests_are_limited_per_ip(client: TestClient, mailer: Inbox) -> None:
    for n in range(rate_limit.RESETS_PER_IP.attempts):
        assert ask_for_reset(client, f"person{n}@example.com").status_code == 200
    assert ask_for_reset(client, "one-more@example.com").status_code == 429


def test_a_broken_mail_server_does_not_fail_the_request(
    client: TestClient, app: Starlette, db: Session, ada: User, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on this port.
    app.state.settings = dataclasses.replace(
        app.state.settings, smtp_host="127.0.0.1", smtp_port=free_port()
    )
    with caplog.at_level(logging.WARNING, logger="wheelyard.services.accounts.mail"):
        response = ask_for_reset(client, "ada@example.com")
    assert response.status_code == 200
    assert SENT in response.text
    assert "could not send" in caplog.text
    # The token was kept: a retry of the mail server later is not needed for the next ask.
    assert db.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 1


def test_without_a_mail_server_resets_are_not_offered(
    client: TestClient, db: Session, ada: User
) -> None:
    page = client.get("/account/reset")
    assert page.status_code == 200
    assert "Password resets are not available" in page.text
    assert 'name="email"' not in page.text
    refused = client.post(
        "/account/reset",
        data={"csrf_token": csrf_from(client, "/account/login"), "email": "ada@example.com"},
    )
    assert refused.status_code == 400
    assert "not available" in refused.text
    assert actions(db) == []


def test_links_use_the_public_url_when_set(
    client: TestClient, app: Starlette, ada: User, mailer: Inbox
) -> None:
    app.state.settings = dataclasses.replace(
        app.state.settings, public_url="https://pypi.example.org"
    )
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    assert url.startswith("https://pypi.example.org/account/reset/")


@pytest.mark.parametrize("address", ["", "not-an-address", "a" * 400 + "@example.com"])
def test_a_malformed_address_is_refused(
    client: TestClient, db: Session, mailer: Inbox, address: str
) -> None:
    response = ask_for_reset(client, address)
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert actions(db) == []


def test_the_reset_forms_need_csrf(client: TestClient, ada: User, mailer: Inbox) -> None:
    assert client.post("/account/reset", data={"email": "ada@example.com"}).status_code == 403
    ask_for_reset(client, "ada@example.com")
    url, _ = mailer.only_link()
    data = {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post(path_of(url), data=data).status_code == 403
    assert client.get(path_of(url)).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "x" * 500])
def test_a_made_up_link_is_refused(client: TestClient, token: str) -> None:
    assert client.get(f"/account/reset/{token}").status_code == 404


def test_the_login_page_links_to_the_reset(client: TestClient) -> None:
    assert 'href="/account/reset"' in client.get("/account/login").text
