"""Password reset by email, against a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re

import pytest
import sqlalchemy as sa
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in, log_out
from tests.helpers.audit import audit_actions
from tests.helpers.live_server import free_port
from tests.helpers.mail import RESET_LINK, Inbox
from tests.helpers.passwords import PASSWORD
from tests.helpers.two_factor import enable_two_factor
from wheelyard.data.password_reset import PasswordReset
from wheelyard.data.user import User
from wheelyard.services.accounts import rate_limit

NEW_PASSWORD = "a fresh new password"
SENT = "If an account exists for that address, we sent it a link"


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
    client: TestClient, db: Session, ada: User, inbox: Inbox
) -> None:
    response = ask_for_reset(client, "ADA@example.com")
    assert response.status_code == 200
    assert SENT in response.text
    message = inbox.messages[0]
    assert message["To"] == "ada@example.com"
    assert message["From"] == "index@example.com"
    assert "Reset your" in message["Subject"]
    url, token = inbox.only_link()
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
    assert "password reset requested" in audit_actions(db)
    assert "password reset" in audit_actions(db)
    assert token not in {row.hashed_token for row in db.scalars(sa.select(PasswordReset))}


def test_the_token_is_stored_only_as_a_hash(
    client: TestClient, db: Session, ada: User, inbox: Inbox
) -> None:
    ask_for_reset(client, "ada@example.com")
    _, token = inbox.only_link()
    stored = db.scalars(sa.select(PasswordReset)).one()
    assert stored.hashed_token == hashlib.sha256(token.encode()).hexdigest()
    assert stored.user_id == ada.id


def test_a_link_works_once(client: TestClient, ada: User, inbox: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    assert set_new_password(client, path_of(url)).status_code == 200
    again = set_new_password(client, path_of(url), "yet another password")
    assert again.status_code == 404
    assert "not valid" in again.text
    assert client.get(path_of(url)).status_code == 404
    assert log_in(client, "ada@example.com", NEW_PASSWORD).status_code == 303


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client: TestClient, app: Starlette, db: Session, ada: User, inbox: Inbox
) -> None:
    known = ask_for_reset(client, "ada@example.com")
    unknown = ask_for_reset(elsewhere(app), "nobody@example.com")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", unknown.text) == strip.sub("", known.text)
    assert len(inbox.messages) == 1
    assert audit_actions(db) == ["password reset requested"] * 2


def test_an_inactive_account_gets_no_email(
    client: TestClient, db: Session, ada: User, inbox: Inbox
) -> None:
    ada.is_active = False
    db.flush()
    assert SENT in ask_for_reset(client, "ada@example.com").text
    assert inbox.messages == []


def test_an_expired_link_is_refused(
    client: TestClient, db: Session, ada: User, inbox: Inbox
) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    reset = db.scalars(sa.select(PasswordReset)).one()
    reset.expires = reset.created_date.replace(year=2000)
    db.flush()
    assert client.get(path_of(url)).status_code == 404
    assert set_new_password(client, path_of(url)).status_code == 404
    assert log_in(client, "ada@example.com", NEW_PASSWORD).status_code == 400


def test_the_expiry_follows_the_setting(
    client: TestClient, app: Starlette, db: Session, ada: User, inbox: Inbox
) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, password_reset_minutes=15)
    ask_for_reset(client, "ada@example.com")
    assert "15 minutes" in inbox.messages[0].get_content()
    reset = db.scalars(sa.select(PasswordReset)).one()
    lifetime = (reset.expires - reset.created_date).total_seconds()
    assert 14 * 60 < lifetime < 16 * 60


def test_a_newer_link_replaces_the_older(client: TestClient, ada: User, inbox: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    ask_for_reset(client, "ada@example.com")
    assert len(inbox.messages) == 2
    first, second = (RESET_LINK.search(m.get_content()) for m in inbox.messages)
    assert first and second
    assert client.get(path_of(first.group(1))).status_code == 404
    assert client.get(path_of(second.group(1))).status_code == 200


def test_changing_the_password_voids_a_link(client: TestClient, ada: User, inbox: Inbox) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
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
    client: TestClient, app: Starlette, ada: User, inbox: Inbox
) -> None:
    log_in(client, "ada@example.com")
    assert client.get("/account").status_code == 200
    stranger = elsewhere(app)
    ask_for_reset(stranger, "ada@example.com")
    url, _ = inbox.only_link()
    assert set_new_password(stranger, path_of(url)).status_code == 200
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_reset_does_not_skip_the_second_factor(
    client: TestClient, ada: User, inbox: Inbox
) -> None:
    log_in(client, "ada@example.com")
    enable_two_factor(client)
    log_out(client)
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    assert set_new_password(client, path_of(url)).status_code == 200
    response = log_in(client, "ada@example.com", NEW_PASSWORD)
    assert response.headers["location"] == "/account/login/two-factor"


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [("short", "short", "at least 8 characters"), (NEW_PASSWORD, "other", "differ")],
)
def test_a_bad_new_password_keeps_the_link(
    client: TestClient, ada: User, inbox: Inbox, password: str, confirm: str, message: str
) -> None:
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    response = set_new_password(client, path_of(url), password, confirm)
    assert response.status_code == 400
    assert message in response.text
    assert client.get(path_of(url)).status_code == 200


def test_reset_requests_are_limited_per_address(
    client: TestClient, app: Starlette, ada: User, inbox: Inbox
) -> None:
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        assert ask_for_reset(client, "ada@example.com").status_code == 200
    response = ask_for_reset(elsewhere(app), "ada@example.com")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert len(inbox.messages) == rate_limit.RESETS_PER_ADDRESS.attempts
    # Unknown addresses are limited the same way, so a 429 tells nothing either.
    for _ in range(rate_limit.RESETS_PER_ADDRESS.attempts):
        assert ask_for_reset(elsewhere(app, "192.0.2.90"), "nobody@example.com").status_code == 200
    assert ask_for_reset(elsewhere(app, "192.0.2.91"), "nobody@example.com").status_code == 429


def test_reset_requests_are_limited_per_ip(client: TestClient, inbox: Inbox) -> None:
    for n in range(rate_limit.RESETS_PER_IP.attempts):
        assert ask_for_reset(client, f"person{n}@example.com").status_code == 200
    assert ask_for_reset(client, "one-more@example.com").status_code == 429


def test_a_broken_mail_server_does_not_fail_the_request(
    client: TestClient, app: Starlette, db: Session, ada: User, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on this port.
    app.state.settings = dataclasses.replace(
        app.state.settings,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        public_url="http://testserver",
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
    assert audit_actions(db) == []


def test_without_a_public_url_no_reset_mail_is_sent(
    client: TestClient, app: Starlette, db: Session, ada: User, inbox: Inbox
) -> None:
    # A link built from the request's Host would go wherever the asker pointed it.
    app.state.settings = dataclasses.replace(app.state.settings, public_url=None)
    page = client.get("/account/reset")
    assert "WHEELYARD_PUBLIC_URL" in page.text
    assert 'name="email"' not in page.text
    refused = client.post(
        "/account/reset",
        data={"csrf_token": csrf_from(client, "/account/login"), "email": "ada@example.com"},
    )
    assert refused.status_code == 400
    assert "WHEELYARD_PUBLIC_URL" in refused.text
    assert inbox.messages == []
    assert db.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0


def test_a_reset_asked_under_another_host_is_refused_and_mails_nothing(
    client: TestClient, db: Session, ada: User, inbox: Inbox
) -> None:
    token = csrf_from(client, "/account/login")
    refused = client.post(
        "/account/reset",
        headers={"Host": "evil.example"},
        data={"csrf_token": token, "email": "ada@example.com"},
    )
    assert refused.status_code == 400
    assert inbox.messages == []
    assert db.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0
    # Asked properly, the link names the public URL whatever Host the request carried.
    assert ask_for_reset(client, "ada@example.com").status_code == 200
    url, _ = inbox.only_link()
    assert url.startswith("http://testserver/account/reset/")


def test_links_use_the_public_url_when_set(
    client: TestClient, app: Starlette, ada: User, inbox: Inbox
) -> None:
    app.state.settings = dataclasses.replace(
        app.state.settings, public_url="https://pypi.example.org"
    )
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    assert url.startswith("https://pypi.example.org/account/reset/")


@pytest.mark.parametrize("address", ["", "not-an-address", "a" * 400 + "@example.com"])
def test_a_malformed_address_is_refused(
    client: TestClient, db: Session, inbox: Inbox, address: str
) -> None:
    response = ask_for_reset(client, address)
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert audit_actions(db) == []


def test_the_reset_forms_need_csrf(client: TestClient, ada: User, inbox: Inbox) -> None:
    assert client.post("/account/reset", data={"email": "ada@example.com"}).status_code == 403
    ask_for_reset(client, "ada@example.com")
    url, _ = inbox.only_link()
    data = {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post(path_of(url), data=data).status_code == 403
    assert client.get(path_of(url)).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "x" * 500])
def test_a_made_up_link_is_refused(client: TestClient, token: str) -> None:
    assert client.get(f"/account/reset/{token}").status_code == 404


def test_the_login_page_links_to_the_reset(client: TestClient) -> None:
    assert 'href="/account/reset"' in client.get("/account/login").text
