"""Email verification before uploading, against a real SMTP server (aiosmtpd) on loopback.

While the index has a mail server, an account made at sign-up may not upload until it has
followed the link mailed to it; accounts an operator makes, and sign-ups on an index
without a mail server, upload at once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from
from tests.helpers.apps import app_for
from tests.helpers.audit import audit_actions
from tests.helpers.dists import Project, wheel
from tests.helpers.mail import VERIFY_LINK, Inbox, smtp_sink
from tests.helpers.passwords import PASSWORD
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.cli import main
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.data.user import User
from wheelyard.services.accounts import rate_limit, tokens

GRACE = "grace@example.com"


def register(client: TestClient, email: str = GRACE) -> Response:
    data = {
        "csrf_token": csrf_from(client, "/account/register"),
        "name": "Grace Hopper",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    return client.post("/account/register", data=data, follow_redirects=False)


def upload(client: TestClient, name: str, email: str = GRACE) -> Response:
    dist = wheel(Project(name, "1.0"))
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    headers = basic_auth(email, PASSWORD)
    return client.post("/legacy/", data=twine_fields(dist), files=files, headers=headers)


def account_of(db: Session, email: str) -> User:
    db.expire_all()
    return db.scalars(sa.select(User).where(User.email == email)).one()


def path_of(url: str) -> str:
    return "/account/verify/" + url.rsplit("/", 1)[1]


def test_a_sign_up_uploads_only_after_following_the_mailed_link(
    client: TestClient, db: Session, inbox: Inbox
) -> None:
    assert register(client).status_code == 303
    assert account_of(db, GRACE).email_verified is False
    page = client.get("/account")
    assert "We mailed a link to grace@example.com" in page.text
    assert "(not verified)" in page.text and "Send the link again" in page.text
    [message] = inbox.messages
    assert message["To"] == GRACE and "Verify your email address" in message["Subject"]
    url, _token = inbox.only_link(VERIFY_LINK)
    # Built from the configured public URL only.
    assert url.startswith("http://testserver/account/verify/")

    refused = upload(client, "internal-billing-lib")
    assert refused.status_code == 403
    assert "Verify your email address grace@example.com before uploading" in refused.text
    assert "account page" in refused.text

    done = client.get(path_of(url))
    assert done.status_code == 200, done.text
    assert "is verified" in done.text
    assert account_of(db, GRACE).email_verified is True
    assert "email verified" in audit_actions(db)
    assert "(verified)" in client.get("/account").text

    accepted = upload(client, "internal-billing-lib")
    assert accepted.status_code == 200, accepted.text


def test_an_unverified_accounts_api_token_cannot_upload_either(
    client: TestClient, db: Session, inbox: Inbox
) -> None:
    assert register(client).status_code == 303
    _token, secret = tokens.create_token(db, account_of(db, GRACE), description="ci")
    db.commit()
    dist = wheel(Project("claimed", "1.0"))
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    response = client.post(
        "/legacy/", data=twine_fields(dist), files=files, headers=basic_auth("__token__", secret)
    )
    assert response.status_code == 403
    assert "Verify your email address" in response.text


def test_a_bad_or_outdated_link_is_refused_with_the_reason(
    client: TestClient, db: Session, inbox: Inbox
) -> None:
    assert register(client).status_code == 303
    url, _token = inbox.only_link(VERIFY_LINK)
    bad = client.get(path_of(url)[:-3] + "xyz")
    assert bad.status_code == 400
    assert "not valid" in bad.text
    # A changed address makes the old link worthless.
    grace = account_of(db, GRACE)
    grace.email = "grace@elsewhere.example"
    db.commit()
    changed = client.get(path_of(url))
    assert changed.status_code == 400
    assert "no longer has" in changed.text
    assert account_of(db, "grace@elsewhere.example").email_verified is False


def test_the_link_is_sent_again_from_the_account_page_within_limits(
    client: TestClient, db: Session, inbox: Inbox
) -> None:
    assert register(client).status_code == 303
    limit = rate_limit.VERIFICATIONS_PER_ADDRESS
    for _ in range(limit.attempts - 1):
        again = client.post("/account/verify", data={"csrf_token": csrf_from(client, "/account")})
        assert again.status_code == 200  # the account page, after the redirect
        assert "We mailed a link" in again.text
    assert len(inbox.messages) == limit.attempts
    # The newest link works as well as the first.
    last = inbox.messages[-1].get_content()
    match = VERIFY_LINK.search(last)
    assert match
    refused = client.post("/account/verify", data={"csrf_token": csrf_from(client, "/account")})
    assert refused.status_code == 429
    assert "Too many verification emails" in refused.text
    assert len(inbox.messages) == limit.attempts
    assert client.get(path_of(match.group(1))).status_code == 200
    assert account_of(db, GRACE).email_verified is True


def test_sending_again_needs_the_csrf_token(client: TestClient, inbox: Inbox) -> None:
    assert register(client).status_code == 303
    assert client.post("/account/verify", data={}).status_code == 403
    assert len(inbox.messages) == 1


def test_without_a_public_url_no_link_is_mailed_and_the_page_says_why(
    app: Starlette, client: TestClient, db: Session, inbox: Inbox
) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, public_url=None)
    assert register(client).status_code == 303
    page = client.get("/account")
    assert "WHEELYARD_PUBLIC_URL" in page.text
    assert inbox.messages == []
    assert account_of(db, GRACE).email_verified is False
    again = client.post("/account/verify", data={"csrf_token": csrf_from(client, "/account")})
    assert again.status_code == 400
    assert inbox.messages == []


def test_without_a_mail_server_a_sign_up_is_verified_and_uploads_at_once(
    client: TestClient, db: Session
) -> None:
    assert register(client).status_code == 303
    assert account_of(db, GRACE).email_verified is True
    assert "Verify your email address" not in client.get("/account").text
    assert upload(client, "open-index-lib").status_code == 200


def test_an_account_made_on_the_command_line_uploads_at_once(
    settings: Settings, empty_database: str, tmp_path: Path
) -> None:
    # A database of the test's own: the command commits for real, outside the test's rollback.
    env = {"WHEELYARD_DATABASE_URL": empty_database, "WHEELYARD_VAR_DIR": str(tmp_path)}
    args = ["user", "create", "--name", "Ops", "--email", "ops@example.com"]
    result = CliRunner().invoke(main, [*args, "--password", PASSWORD], env=env)
    assert result.exit_code == 0, result.output
    engine = create_engine(empty_database)
    try:
        with smtp_sink() as (inbox, port):
            mailing = dataclasses.replace(
                settings,
                database_url=empty_database,
                smtp_host="127.0.0.1",
                smtp_port=port,
                public_url="http://testserver",
            )
            app = app_for(mailing, session_factory(engine))
            with TestClient(app, base_url="http://testserver") as client:
                response = upload(client, "ops-tool", email="ops@example.com")
        assert response.status_code == 200, response.text
        assert inbox.messages == []
    finally:
        engine.dispose()
