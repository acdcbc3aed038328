"""Registering, logging in and out, and the account page, including what users get wrong."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, elsewhere, log_in, log_out
from tests.helpers.audit import audit_actions
from tests.helpers.factories import Factory
from tests.helpers.passwords import PASSWORD
from wheelyard.app import SESSION_COOKIE
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import rate_limit, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin


def register(client: TestClient, **fields: str) -> Response:
    data = {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        **fields,
    }
    data["csrf_token"] = csrf_from(client, "/account/register")
    return client.post("/account/register", data=data, follow_redirects=False)


def test_register_creates_a_hashed_account_and_logs_in(client: TestClient, db: Session) -> None:
    response = register(client, email="Grace@Example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    user = db.scalars(sa.select(User)).one()
    assert user.email == "grace@example.com"
    assert user.hashed_password is not None and user.hashed_password.startswith("$argon2id$")
    assert PASSWORD not in user.hashed_password
    page = client.get("/account")
    assert page.status_code == 200
    assert "grace@example.com" in page.text
    assert audit_actions(db) == ["register"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter your name."),
        ({"name": "x" * 201}, "The name is longer than 200 characters."),
        ({"email": ""}, "Enter a valid email address."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "a" * 320 + "@example.com"}, "Enter a valid email address."),
        ({"password": "", "confirm": ""}, "Choose a password of at least 8 characters."),
        ({"password": "p" * 2000, "confirm": "p" * 2000}, "longer than 1024 characters"),
        ({"confirm": "something else"}, "The two passwords differ."),
    ],
)
def test_register_refuses_bad_fields(
    client: TestClient, db: Session, fields: dict[str, str], message: str
) -> None:
    response = register(client, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_register_refuses_an_email_in_use_in_any_case(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="grace@example.com")
    response = register(client, email="GRACE@example.COM")
    assert response.status_code == 400
    assert "already exists" in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_forms_refuse_a_missing_or_wrong_csrf_token(
    client: TestClient, db: Session, make: Factory, token: str | None
) -> None:
    make.user(email="ada@example.com")
    client.get("/account/login")  # the session has a real token, the form does not send it
    extra = {} if token is None else {"csrf_token": token}
    login = client.post(
        "/account/login", data={"email": "ada@example.com", "password": PASSWORD, **extra}
    )
    signup = client.post(
        "/account/register",
        data={"name": "X", "email": "x@example.com", "password": PASSWORD, **extra},
    )
    logout = client.post("/account/logout", data=extra)
    for response in (login, signup, logout):
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert audit_actions(db) == []


def test_login_sets_last_login_a_signed_cookie_and_an_audit_row(
    client: TestClient, db: Session, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    assert user.last_login is None
    response = log_in(client, "ADA@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    db.refresh(user)
    assert user.last_login is not None
    assert audit_actions(db) == ["login"]
    assert "Last login" in client.get("/account").text


def test_a_forged_session_cookie_is_ignored(client: TestClient, make: Factory) -> None:
    make.user(email="ada@example.com")
    client.cookies.set(SESSION_COOKIE, "eyJ1c2VyX2lkIjogMX0=.forged.signature")
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login")


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_failed_login_does_not_say_which_field_was_wrong(
    client: TestClient, db: Session, make: Factory, email: str, password: str
) -> None:
    make.user(email="ada@example.com")
    response = log_in(client, email, password)
    assert response.status_code == 400
    assert "The email address or password is not right." in response.text
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert audit_actions(db) == ["login failed"]


@pytest.mark.parametrize(
    ("email", "password"),
    [("", ""), ("ada@example.com", ""), ("a" * 5000, PASSWORD), ("ada@example.com", "p" * 5000)],
)
def test_login_with_empty_or_oversized_fields_is_refused(
    client: TestClient, make: Factory, email: str, password: str
) -> None:
    make.user(email="ada@example.com")
    response = log_in(client, email, password)
    assert response.status_code == 400
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_an_imported_account_without_a_password_cannot_log_in(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="imported@example.com", password=None)
    for attempt in ("", "None", PASSWORD):
        assert log_in(client, "imported@example.com", attempt).status_code == 400
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_an_inactive_account_cannot_log_in(client: TestClient, db: Session, make: Factory) -> None:
    user = make.user(email="gone@example.com")
    user.is_active = False
    db.flush()
    assert log_in(client, "gone@example.com").status_code == 400


def test_login_rehashes_a_password_hashed_with_old_parameters(
    client: TestClient, db: Session, make: Factory
) -> None:
    user = make.user(email="ada@example.com", password=None)
    user.hashed_password = Passwords(time_cost=1, memory_cost=512).hash(PASSWORD)
    old_hash = user.hashed_password
    db.flush()
    assert log_in(client, "ada@example.com").status_code == 303
    db.refresh(user)
    assert user.hashed_password != old_hash
    assert "m=1024" in (user.hashed_password or "")


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/" + "x" * 5000,
    ],
)
def test_next_never_leaves_the_site(client: TestClient, make: Factory, next_path: str) -> None:
    make.user(email="ada@example.com")
    response = log_in(client, "ada@example.com", next=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"


def test_next_follows_a_local_path(client: TestClient, make: Factory) -> None:
    make.user(email="ada@example.com")
    response = log_in(client, "ada@example.com", next="/project/demo/?tab=files")
    assert response.headers["location"] == "/project/demo/?tab=files"


def test_login_page_carries_a_safe_next_only(client: TestClient) -> None:
    assert (
        'name="next" value="/account/tokens"'
        in client.get("/account/login?next=/account/tokens").text
    )
    assert "evil" not in client.get("/account/login?next=//evil.com").text


def test_logout_ends_the_session_and_is_audited(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    token = csrf_from(client, "/account")
    response = client.post("/account/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert audit_actions(db) == ["login", "logout"]


def test_logout_needs_post(client: TestClient) -> None:
    assert client.get("/account/logout").status_code == 405


def test_account_page_lists_your_projects(client: TestClient, make: Factory) -> None:
    owner = make.user(email="ada@example.com")
    make.package("mine", owner=owner)
    make.package("not-mine", owner=make.user())
    log_in(client, "ada@example.com")
    page = client.get("/account").text
    assert "/project/mine/" in page
    assert "/manage/project/mine/" in page
    assert "not-mine" not in page
    # The title is only the title (a section once slipped into it), and the section is shown once.
    assert "<title>Your account · " in page and "<title>Your account · wheelyard</title>" in page
    assert page.count("Recent security events") == 1


def test_account_page_sends_anonymous_users_to_log_in(client: TestClient) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Faccount"


def test_an_oversized_form_body_is_refused(client: TestClient) -> None:
    token = csrf_from(client, "/account/login")
    response = client.post(
        "/account/login", data={"csrf_token": token, "email": "a", "password": "p" * 200_000}
    )
    assert response.status_code == 400


def test_repeated_failed_logins_for_an_address_answer_429(
    client: TestClient, app: Starlette, db: Session, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    for _ in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        assert log_in(client, "ada@example.com", "a wrong guess").status_code == 400
    # Now even the right password is not checked, so guessing on gains nothing.
    response = log_in(client, "ada@example.com")
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    assert int(response.headers["retry-after"]) > 0
    db.refresh(user)
    assert user.last_login is None
    assert client.get("/account", follow_redirects=False).status_code == 303
    # Throttled attempts add no rows: an attack does not grow the table at full speed.
    attempts = rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts
    assert audit_actions(db) == ["login failed"] * attempts
    # Another account, from another address: neither limit applies to it.
    make.user(email="bob@example.com")
    assert log_in(elsewhere(app), "bob@example.com").status_code == 303


def test_wrong_passwords_from_many_addresses_do_not_lock_the_owner_out(
    app: Starlette, db: Session, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    for n in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        attacker = elsewhere(app, f"198.51.100.{n}")
        assert log_in(attacker, "ada@example.com", "a wrong guess").status_code == 400
    # The guessers wait a little before their next guess counts...
    again = log_in(elsewhere(app, "198.51.100.0"), "ada@example.com", "another guess")
    assert again.status_code == 429
    step = rate_limit.LOGIN_BACKOFF_STEP.total_seconds()
    assert 0 < int(again.headers["retry-after"]) <= step
    # ...while the owner, from a machine of their own, signs in at once.
    assert log_in(elsewhere(app, "203.0.113.5"), "ada@example.com").status_code == 303
    db.refresh(user)
    assert user.last_login is not None


def test_an_unknown_address_is_throttled_the_same_way(client: TestClient) -> None:
    for _ in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        assert log_in(client, "nobody@example.com", "guess").status_code == 400
    assert log_in(client, "nobody@example.com", "guess").status_code == 429


def test_one_client_failing_on_many_addresses_answers_429(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="ada@example.com")
    # As if this client had already failed on many addresses (the test client's IP).
    for n in range(rate_limit.FAILED_LOGINS_PER_IP.attempts):
        audit.record(db, audit.Action.LOGIN_FAILED, origin=Origin("testclient"), detail=f"{n}@x.io")
    db.flush()
    assert log_in(client, "ada@example.com").status_code == 429


def test_many_sign_ups_from_one_client_answer_429(client: TestClient, db: Session) -> None:
    for n in range(rate_limit.REGISTRATIONS_PER_IP.attempts):
        assert register(client, email=f"person{n}@example.com").status_code == 303
        client.cookies.clear()
    response = register(client, email="one-more@example.com")
    assert response.status_code == 429
    assert "Too many accounts" in response.text
    assert users.find_user_by_email(db, "one-more@example.com") is None


def test_one_client_failing_ten_times_in_five_minutes_is_limited(
    client: TestClient, make: Factory
) -> None:
    assert rate_limit.FAILED_LOGINS_PER_IP.attempts == 10
    assert rate_limit.FAILED_LOGINS_PER_IP.window.total_seconds() == 300
    make.user(email="ada@example.com")
    for n in range(10):
        assert log_in(client, f"guess{n}@example.com", "guess").status_code == 400
    response = log_in(client, "ada@example.com")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "300"


def test_sign_ups_probing_taken_addresses_answer_429(
    client: TestClient, app: Starlette, db: Session, make: Factory
) -> None:
    make.user(email="ada@example.com")
    for _ in range(rate_limit.FAILED_REGISTRATIONS_PER_ADDRESS.attempts):
        assert register(client, email="ada@example.com").status_code == 400
    assert (
        audit_actions(db)
        == ["register failed"] * rate_limit.FAILED_REGISTRATIONS_PER_ADDRESS.attempts
    )
    response = register(client, email="someone-new@example.com")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    # The address is limited from anywhere, as the client is for any address.
    assert register(elsewhere(app), email="ada@example.com").status_code == 429
    assert register(elsewhere(app), email="someone-new@example.com").status_code == 303


# --- sessions ----------------------------------------------------------------------------------


def session_cookie(client: TestClient) -> str | None:
    return client.cookies.get(SESSION_COOKIE)


def test_login_issues_a_new_session_and_a_new_csrf_secret(
    client: TestClient, make: Factory
) -> None:
    make.user(email="ada@example.com")
    before_token = csrf_from(client, "/account/login")
    before_cookie = session_cookie(client)
    assert log_in(client, "ada@example.com").status_code == 303
    assert session_cookie(client) not in (None, before_cookie)
    after_token = csrf_from(client, "/account")
    assert after_token != before_token
    # The anonymous session's token is worth nothing now.
    response = client.post("/account/logout", data={"csrf_token": before_token})
    assert response.status_code == 403


def test_logout_ends_the_accounts_other_sessions_too(
    client: TestClient, app: Starlette, db: Session, make: Factory
) -> None:
    make.user(name="Ada Lovelace", email="ada@example.com")
    laptop, phone = client, elsewhere(app)
    log_in(laptop, "ada@example.com")
    log_in(phone, "ada@example.com")
    assert phone.get("/account").status_code == 200
    log_out(laptop)
    response = phone.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login")
    # The stale cookie is dropped, and no page shows the account as logged in.
    assert session_cookie(phone) is None
    assert "Ada Lovelace" not in phone.get("/").text
    assert log_in(phone, "ada@example.com").status_code == 303
    assert phone.get("/account").status_code == 200


def test_a_copied_cookie_dies_with_the_session(
    client: TestClient, app: Starlette, make: Factory
) -> None:
    make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    stolen = session_cookie(client)
    assert stolen is not None
    log_out(client)
    thief = elsewhere(app)
    thief.cookies.set(SESSION_COOKIE, stolen)
    assert thief.get("/account", follow_redirects=False).status_code == 303
    assert thief.get("/account/tokens", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_a_session_ends_when_its_account_goes(
    client: TestClient, db: Session, make: Factory, change: str
) -> None:
    user = make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    if change == "deactivate":
        user.is_active = False
    else:
        db.delete(user)
    db.flush()
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert session_cookie(client) is None


def test_a_session_from_before_generations_is_not_honoured(
    client: TestClient, db: Session, make: Factory
) -> None:
    # A cookie naming only a user id (as issued before sessions carried a generation).
    user = make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    user.session_generation = None
    db.flush()
    assert client.get("/account", follow_redirects=False).status_code == 303


# --- changing the password -----------------------------------------------------------------


def change_password(
    client: TestClient, current: str = PASSWORD, new: str = "a brand new secret", **extra: str
) -> Response:
    data = {
        "csrf_token": csrf_from(client, "/account"),
        "current_password": current,
        "new_password": new,
        "confirm": new,
        **extra,
    }
    return client.post("/account/password", data=data, follow_redirects=False)


def test_account_page_has_a_change_password_form(client: TestClient, make: Factory) -> None:
    make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    page = client.get("/account").text
    assert 'action="/account/password"' in page
    assert 'name="current_password"' in page
    assert 'name="csrf_token"' in page


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(
    client: TestClient, app: Starlette, db: Session, make: Factory, passwords: Passwords
) -> None:
    user = make.user(email="ada@example.com")
    phone = elsewhere(app)
    log_in(client, "ada@example.com")
    log_in(phone, "ada@example.com")
    old_cookie = session_cookie(client)
    response = change_password(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Your password was changed" in page.text
    assert session_cookie(client) != old_cookie
    assert phone.get("/account", follow_redirects=False).status_code == 303
    db.refresh(user)
    assert passwords.verify(user.hashed_password, "a brand new secret").ok
    assert audit_actions(db) == ["login", "login", "password changed"]
    assert log_in(phone, "ada@example.com").status_code == 400
    assert log_in(phone, "ada@example.com", "a brand new secret").status_code == 303


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login(
    client: TestClient, db: Session, make: Factory
) -> None:
    user = make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    old_hash = user.hashed_password
    response = change_password(client, current="not my password")
    assert response.status_code == 400
    assert "Your current password is not right." in response.text
    db.refresh(user)
    assert user.hashed_password == old_hash
    assert audit_actions(db) == ["login", "login failed"]
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"new_password": "short", "confirm": "short"}, "at least 8 characters"),
        ({"confirm": "something else"}, "The two passwords differ."),
        ({"current_password": ""}, "Enter your current password."),
    ],
)
def test_change_password_refuses_bad_fields(
    client: TestClient, db: Session, make: Factory, extra: dict[str, str], message: str
) -> None:
    user = make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    old_hash = user.hashed_password
    response = change_password(client, **extra)
    assert response.status_code == 400
    assert message in response.text
    db.refresh(user)
    assert user.hashed_password == old_hash


def test_guessing_the_current_password_is_rate_limited(
    client: TestClient, db: Session, make: Factory
) -> None:
    make.user(email="ada@example.com")
    log_in(client, "ada@example.com")
    for _ in range(rate_limit.FAILED_LOGINS_PER_ADDRESS.attempts):
        assert change_password(client, current="guess").status_code == 400
    response = change_password(client)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_change_password_needs_csrf_and_a_session(client: TestClient, make: Factory) -> None:
    make.user(email="ada@example.com")
    client.get("/account/login")
    anonymous = client.post(
        "/account/password",
        data={"csrf_token": csrf_from(client, "/account/login"), "current_password": PASSWORD},
        follow_redirects=False,
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/account/login")
    log_in(client, "ada@example.com")
    forged = client.post("/account/password", data={"current_password": PASSWORD})
    assert forged.status_code == 403


def test_a_nul_in_the_email_is_a_failed_login_not_an_error(client: TestClient) -> None:
    token = csrf_from(client, "/account/login")
    response = client.post(
        "/account/login",
        data={"email": "ada\x00@example.com", "password": "whatever", "csrf_token": token},
    )
    assert response.status_code == 400
