"""Two-factor login: setting it up, logging in with a code or a recovery code, turning it off."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in, log_out
from tests.helpers.audit import audit_actions
from tests.helpers.passwords import PASSWORD
from tests.helpers.two_factor import (
    RECOVERY_CODE,
    TOTP_SECRET,
    code_at,
    enable_two_factor,
    next_code,
    post_code,
)
from wheelyard.data.recovery_code import RecoveryCode
from wheelyard.data.user import User
from wheelyard.services.accounts import rate_limit
from wheelyard.web import session

_QR = re.compile(r'<img class="qr-code" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def secured(client: TestClient, logged_in_ada: User) -> tuple[str, list[str]]:
    """Ada with two-factor login on, logged out again."""
    secret, codes = enable_two_factor(client)
    log_out(client)
    return secret, codes


def test_set_up_page_shows_a_qr_code_the_csp_allows(
    client: TestClient, logged_in_ada: User
) -> None:
    response = client.get("/account/two-factor")
    assert response.status_code == 200
    qr = _QR.search(response.text)
    assert qr, "no inline QR image"
    svg = base64.b64decode(qr.group(1)).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    csp = response.headers["content-security-policy"]
    assert "img-src 'self' https: data:" in csp
    assert "<script>" not in response.text and " style=" not in response.text
    secret = TOTP_SECRET.search(response.text)
    assert secret is not None
    # Reloading keeps the same secret, so a scanned code stays good.
    assert TOTP_SECRET.findall(client.get("/account/two-factor").text) == [secret.group(1)]
    assert response.headers["cache-control"] == "no-store"


def test_set_up_needs_a_session(client: TestClient) -> None:
    response = client.get("/account/two-factor", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Faccount%2Ftwo-factor"


def test_a_wrong_confirmation_code_leaves_it_off(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    client.get("/account/two-factor")
    response = post_code(client, "/account/two-factor/enable", "000000", "/account/two-factor")
    assert response.status_code == 400
    assert "That code does not match" in response.text
    db.refresh(logged_in_ada)
    assert logged_in_ada.totp_secret is None


def test_confirming_turns_it_on_and_shows_ten_recovery_codes_once(
    client: TestClient, app: Starlette, db: Session, logged_in_ada: User
) -> None:
    secret, codes = enable_two_factor(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.refresh(logged_in_ada)
    # Stored sealed: the column never holds the secret itself.
    assert logged_in_ada.totp_secret is not None and secret not in logged_in_ada.totp_secret
    assert app.state.secret_box.open(logged_in_ada.totp_secret).value == secret
    assert logged_in_ada.totp_pending_secret is None
    stored = set(db.scalars(sa.select(RecoveryCode.hashed_code)))
    assert len(stored) == 10
    for code in codes:
        assert code not in stored
        assert hashlib.sha256(code.replace("-", "").encode()).hexdigest() in stored
    assert audit_actions(db)[-1] == "two-factor enabled"
    page = client.get("/account/two-factor").text
    assert "10 unused recovery codes" in page
    assert not any(code in page for code in codes)
    assert "Two-factor login" in client.get("/account").text


def test_login_asks_for_the_second_factor(
    client: TestClient, db: Session, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    secret, _ = secured
    response = log_in(client, "ada@example.com", next="/account/tokens")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login/two-factor"
    db.refresh(logged_in_ada)
    last_login = logged_in_ada.last_login
    # Half logged in is not logged in, anywhere.
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert client.get("/account/tokens", follow_redirects=False).status_code == 303
    assert "Ada Lovelace" not in client.get("/").text
    page = client.get("/account/login/two-factor")
    assert page.status_code == 200
    assert 'name="code"' in page.text
    ok = post_code(
        client, "/account/login/two-factor", next_code(secret), "/account/login/two-factor"
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/account/tokens"
    assert client.get("/account").status_code == 200
    db.refresh(logged_in_ada)
    assert logged_in_ada.last_login != last_login
    assert audit_actions(db)[-1] == "login"


def test_a_wrong_code_is_refused_and_recorded(
    client: TestClient, db: Session, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    log_in(client, "ada@example.com")
    form = "/account/login/two-factor"
    response = post_code(client, form, "123456", form)
    assert response.status_code == 400
    assert "That code is not right." in response.text
    assert audit_actions(db)[-1] == "two-factor failed"
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_code_cannot_be_used_twice(
    client: TestClient, app: Starlette, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    secret, _ = secured
    code = next_code(secret)
    form = "/account/login/two-factor"
    log_in(client, "ada@example.com")
    assert post_code(client, form, code, form).status_code == 303
    other = elsewhere(app)
    log_in(other, "ada@example.com")
    assert post_code(other, form, code, form).status_code == 400


def test_a_recovery_code_logs_in_once(
    client: TestClient, db: Session, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    _, codes = secured
    form = "/account/login/two-factor"
    log_in(client, "ada@example.com")
    # As people copy them: upper case, spaces instead of dashes.
    typed = codes[0].upper().replace("-", " ")
    response = post_code(client, form, typed, form)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/two-factor"
    assert "9 are left" in client.get("/account/two-factor").text
    assert "recovery code used" in audit_actions(db)
    log_out(client)
    log_in(client, "ada@example.com")
    assert post_code(client, form, codes[0], form).status_code == 400


def test_wrong_codes_are_rate_limited(
    client: TestClient, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    secret, _ = secured
    form = "/account/login/two-factor"
    log_in(client, "ada@example.com")
    for _ in range(rate_limit.FAILED_CODES_PER_ACCOUNT.attempts):
        assert post_code(client, form, "000000", form).status_code == 400
    response = post_code(client, form, next_code(secret), form)
    assert response.status_code == 429
    assert "Too many wrong codes" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_the_second_step_expires(
    client: TestClient,
    logged_in_ada: User,
    secured: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret, _ = secured
    log_in(client, "ada@example.com")
    token = csrf_from(client, "/account/login/two-factor")
    monkeypatch.setattr(session, "SECOND_FACTOR_SECONDS", -1)
    response = client.post(
        "/account/login/two-factor",
        data={"csrf_token": token, "code": next_code(secret)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login"
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_the_second_step_without_a_password_goes_to_login(client: TestClient) -> None:
    response = client.get("/account/login/two-factor", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login"


def test_a_logout_elsewhere_ends_a_half_finished_login(
    client: TestClient, app: Starlette, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    secret, _ = secured
    form = "/account/login/two-factor"
    log_in(client, "ada@example.com")
    other = elsewhere(app)
    log_in(other, "ada@example.com")
    assert post_code(other, form, next_code(secret), form).status_code == 303
    log_out(other)
    response = post_code(client, form, code_at(secret, 60), form)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login"


def test_turning_it_off_needs_a_current_code(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    secret, _ = enable_two_factor(client)
    page = "/account/two-factor"
    wrong = post_code(client, "/account/two-factor/disable", "000000", page)
    assert wrong.status_code == 400
    db.refresh(logged_in_ada)
    assert logged_in_ada.totp_secret is not None
    right = post_code(client, "/account/two-factor/disable", next_code(secret), page)
    assert right.status_code == 303
    db.refresh(logged_in_ada)
    assert logged_in_ada.totp_secret is None
    assert db.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert audit_actions(db)[-2:] == ["two-factor failed", "two-factor disabled"]
    assert "Two-factor login is off." in client.get("/account").text
    log_out(client)
    assert log_in(client, "ada@example.com").headers["location"] == "/account"


def test_a_recovery_code_can_turn_it_off(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    _, codes = enable_two_factor(client)
    response = post_code(client, "/account/two-factor/disable", codes[3], "/account/two-factor")
    assert response.status_code == 303
    db.refresh(logged_in_ada)
    assert logged_in_ada.totp_secret is None


def test_new_recovery_codes_replace_the_old_ones(
    client: TestClient, db: Session, logged_in_ada: User
) -> None:
    secret, old_codes = enable_two_factor(client)
    response = post_code(
        client, "/account/two-factor/recovery-codes", next_code(secret), "/account/two-factor"
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    new_codes = RECOVERY_CODE.findall(response.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert audit_actions(db)[-1] == "recovery codes replaced"
    log_out(client)
    form = "/account/login/two-factor"
    log_in(client, "ada@example.com")
    assert post_code(client, form, old_codes[0], form).status_code == 400
    assert post_code(client, form, new_codes[0], form).status_code == 303


def test_two_factor_forms_need_csrf(client: TestClient, logged_in_ada: User) -> None:
    for path in (
        "/account/two-factor/enable",
        "/account/two-factor/disable",
        "/account/two-factor/recovery-codes",
    ):
        assert client.post(path, data={"code": "123456"}).status_code == 403
    log_out(client)
    assert client.post("/account/login/two-factor", data={"code": "1"}).status_code == 403


def test_password_is_still_checked_first(
    client: TestClient, logged_in_ada: User, secured: tuple[str, list[str]]
) -> None:
    response = log_in(client, "ada@example.com", "wrong password")
    assert response.status_code == 400
    assert "The email address or password is not right." in response.text
    assert client.get("/account/login/two-factor", follow_redirects=False).status_code == 303
    assert log_in(client, "ada@example.com", PASSWORD).status_code == 303
    assert client.get("/account/login/two-factor").status_code == 200
