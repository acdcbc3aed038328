"""The audit trail over HTTP: every action leaves its row, with where it came from.

Each action of ``audit.Action`` has a scenario here that brings it about the way people do,
through the web forms or the upload API, from a browser with a known address and user
agent. The test is parametrized over the whole list, so an action added without a scenario
fails until it gets one. The account page then lists the account's rows (and nobody
else's), and the manage page the project's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import csrf_from, log_in
from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.mail import VERIFY_LINK, Inbox
from tests.helpers.oidc_issuer import REPOSITORY, WORKFLOW, running_issuer
from tests.helpers.passwords import PASSWORD
from tests.helpers.two_factor import enable_two_factor, next_code
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.config import Settings
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.trusted_publisher import PublisherKind
from wheelyard.data.user import User
from wheelyard.services.access import teams
from wheelyard.services.accounts import tokens
from wheelyard.services.audit import Action, Origin
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.publishers import PublisherSpec

IP = "192.0.2.10"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; audit test) Firefox/128.0"
NEW_PASSWORD = "a brand new password"
MANAGE = "/manage/project/demo/"


class Browser:
    """A person's browser: its own cookies, address and user agent."""

    def __init__(self, app: Starlette, ip: str = IP, user_agent: str = USER_AGENT) -> None:
        self.client = TestClient(
            app,
            base_url="http://testserver",
            client=(ip, 50000),
            headers={"user-agent": user_agent},
        )

    def log_in(self, email: str, password: str = PASSWORD) -> Response:
        return log_in(self.client, email, password)

    def post(self, path: str, form_page: str, **fields: str) -> Response:
        fields["csrf_token"] = csrf_from(self.client, form_page)
        return self.client.post(path, data=fields, follow_redirects=False)

    def upload(self, project: Project, secret: str) -> Response:
        dist = wheel(project)
        files = {"content": (dist.filename, dist.content, "application/octet-stream")}
        headers = basic_auth("__token__", secret)
        return self.client.post("/legacy/", data=twine_fields(dist), files=files, headers=headers)


@dataclass
class World:
    """Olive owns "demo" (1.0 and 2.0); Hugo is an account she may add as maintainer."""

    app: Starlette
    db: Session
    browser: Browser
    owner: User
    helper: User
    package: Package
    inbox: Inbox

    def owner_logged_in(self) -> Browser:
        response = self.browser.log_in(self.owner.email)
        assert (response.status_code, response.headers["location"]) == (303, "/account")
        return self.browser

    def helper_maintains(self) -> None:
        self.db.add(Maintainer(user=self.helper, package=self.package, role=Role.MAINTAINER))
        self.db.commit()

    def token(self, package_id: str | None = None) -> str:
        _token, secret = tokens.create_token(
            self.db, self.owner, description="ci", package_id=package_id
        )
        self.db.commit()
        return secret


@dataclass(frozen=True)
class Expected:
    """Whom the row must name."""

    user_id: int | None
    package_id: str | None = None


@pytest.fixture
def world(
    client: TestClient,
    app: Starlette,
    db: Session,
    make: Factory,
    inbox: Inbox,
    owner: User,
    package: Package,
) -> World:
    # ``client`` runs the app's lifespan, which the browsers below share.
    helper = make.user(name="Hugo Helper", email="helper@example.com")
    db.commit()
    return World(app, db, Browser(app), owner, helper, package, inbox)


# --- one scenario per action -----------------------------------------------------------------


def _login(world: World) -> Expected:
    world.owner_logged_in()
    return Expected(world.owner.id)


def _login_failed(world: World) -> Expected:
    assert world.browser.log_in(world.owner.email, "not the password").status_code == 400
    return Expected(world.owner.id)


def _logout(world: World) -> Expected:
    browser = world.owner_logged_in()
    assert browser.post("/account/logout", "/account").status_code == 303
    return Expected(world.owner.id)


def _register(world: World) -> Expected:
    response = world.browser.post(
        "/account/register",
        "/account/register",
        name="Grace Hopper",
        email="grace@example.com",
        password=PASSWORD,
        confirm=PASSWORD,
    )
    assert response.status_code == 303, response.text
    grace = world.db.scalars(sa.select(User).where(User.email == "grace@example.com")).one()
    return Expected(grace.id)


def _verification_sent(world: World) -> Expected:
    # The index has a mail server here: a sign-up is sent its link, and the row counts it.
    return _register(world)


def _verify_email(world: World) -> Expected:
    expected = _register(world)
    url, _token = world.inbox.only_link(VERIFY_LINK)
    response = world.browser.client.get("/account/verify/" + url.rsplit("/", 1)[1])
    assert response.status_code == 200, response.text
    return expected


def _register_failed(world: World) -> Expected:
    response = world.browser.post(
        "/account/register",
        "/account/register",
        name="Not Olive",
        email=world.owner.email,
        password=PASSWORD,
        confirm=PASSWORD,
    )
    assert response.status_code == 400
    # Nobody signed in to be named: the row keeps the address tried, for the limits.
    return Expected(None)


def _change_password(world: World) -> Expected:
    browser = world.owner_logged_in()
    response = browser.post(
        "/account/password",
        "/account",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert response.status_code == 303
    return Expected(world.owner.id)


def _ask_for_reset(world: World) -> Expected:
    response = world.browser.post("/account/reset", "/account/reset", email=world.owner.email)
    assert response.status_code == 200
    return Expected(world.owner.id)


def _reset_password(world: World) -> Expected:
    _ask_for_reset(world)
    url, _token = world.inbox.only_link()
    path = "/account/reset/" + url.rsplit("/", 1)[1]
    response = world.browser.post(path, path, new_password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert response.status_code == 200, response.text
    return Expected(world.owner.id)


def _create_token(world: World) -> Expected:
    browser = world.owner_logged_in()
    response = browser.post(
        "/account/tokens",
        "/account/tokens",
        description="laptop",
        scope="demo",
        expires_in_days="",
    )
    assert response.status_code == 200, response.text
    return Expected(world.owner.id, "demo")


def _use_token(world: World) -> Expected:
    response = world.browser.upload(Project("demo", "3.0"), world.token())
    assert response.status_code == 200, response.text
    return Expected(world.owner.id)


def _revoke_token(world: World) -> Expected:
    secret = world.token(package_id="demo")
    token = tokens.find_valid_token(world.db, secret)
    assert token is not None
    browser = world.owner_logged_in()
    response = browser.post("/account/tokens/revoke", "/account/tokens", token_id=str(token.id))
    assert response.status_code == 303
    return Expected(world.owner.id, "demo")


def _enable_two_factor(world: World) -> Expected:
    enable_two_factor(world.owner_logged_in().client)
    return Expected(world.owner.id)


def _disable_two_factor(world: World) -> Expected:
    browser = world.owner_logged_in()
    secret, _codes = enable_two_factor(browser.client)
    form = "/account/two-factor"
    response = browser.post("/account/two-factor/disable", form, code=next_code(secret))
    assert response.status_code == 303
    return Expected(world.owner.id)


def _wrong_code(world: World) -> Expected:
    browser = world.owner_logged_in()
    enable_two_factor(browser.client)
    form = "/account/two-factor"
    response = browser.post("/account/two-factor/disable", form, code="000000")
    assert response.status_code == 400
    return Expected(world.owner.id)


def _use_recovery_code(world: World) -> Expected:
    browser = world.owner_logged_in()
    _secret, codes = enable_two_factor(browser.client)
    assert browser.post("/account/logout", "/account").status_code == 303
    response = browser.log_in(world.owner.email)
    assert response.headers["location"] == "/account/login/two-factor"
    form = "/account/login/two-factor"
    assert browser.post(form, form, code=codes[0]).status_code == 303
    return Expected(world.owner.id)


def _replace_recovery_codes(world: World) -> Expected:
    browser = world.owner_logged_in()
    secret, _codes = enable_two_factor(browser.client)
    form = "/account/two-factor"
    response = browser.post("/account/two-factor/recovery-codes", form, code=next_code(secret))
    assert response.status_code == 200
    return Expected(world.owner.id)


def _upload(world: World) -> Expected:
    return dataclasses.replace(_use_token(world), package_id="demo")


def _manage(world: World, action: str, browser: Browser | None = None, **fields: str) -> Expected:
    browser = browser or world.owner_logged_in()
    response = browser.post(MANAGE + action, MANAGE, **fields)
    assert (response.status_code, response.headers["location"]) == (303, MANAGE), response.text
    return Expected(world.owner.id, "demo")


def _yank(world: World) -> Expected:
    return _manage(world, "release/yank", version="1.0", reason="broken")


def _unyank(world: World) -> Expected:
    _yank(world)
    return _manage(world, "release/unyank", world.browser, version="1.0")


def _remove_file(world: World) -> Expected:
    filename = "demo-1.0-py3-none-any.whl"
    return _manage(world, "file/delete", filename=filename, confirm=filename)


def _remove_release(world: World) -> Expected:
    return _manage(world, "release/delete", version="1.0", confirm="1.0")


def _set_retention(world: World) -> Expected:
    return _manage(world, "retention/set", days="30", keep="2")


def _clear_retention(world: World) -> Expected:
    _set_retention(world)
    return _manage(world, "retention/clear", world.browser)


def _add_maintainer(world: World) -> Expected:
    return _manage(world, "maintainers/add", email=world.helper.email, role="Maintainer")


def _remove_maintainer(world: World) -> Expected:
    world.helper_maintains()
    return _manage(world, "maintainers/remove", user_id=str(world.helper.id))


def _change_role(world: World) -> Expected:
    world.helper_maintains()
    return _manage(world, "maintainers/role", user_id=str(world.helper.id), role="Owner")


def _require_two_factor(world: World) -> Expected:
    browser = world.owner_logged_in()
    enable_two_factor(browser.client)
    return _manage(world, "require-2fa", browser, require="1")


def _stop_requiring_two_factor(world: World) -> Expected:
    _require_two_factor(world)
    return _manage(world, "require-2fa", world.browser, require="0")


def _make_private(world: World) -> Expected:
    return _manage(world, "visibility", visibility="private")


def _crew(world: World) -> None:
    teams.create(world.db, "crew", actor=None, origin=Origin())
    world.db.commit()


def _grant_team(world: World) -> Expected:
    _crew(world)
    return _manage(world, "teams/grant", team="crew", role="Reader")


def _revoke_team(world: World) -> Expected:
    _grant_team(world)
    return _manage(world, "teams/revoke", world.browser, team="crew")


def _archive(world: World) -> Expected:
    return _manage(world, "status", status="archived", reason="superseded by demo2")


def _site_admin(world: World) -> Browser:
    """Olive, made a site admin, signed in."""
    world.owner.is_admin = True
    world.db.commit()
    return world.owner_logged_in()


def _admin(
    world: World, path: str, page: str, browser: Browser | None = None, **fields: str
) -> Expected:
    browser = browser or _site_admin(world)
    response = browser.post(path, page, **fields)
    assert response.status_code == 303, response.text
    return Expected(world.owner.id)


def _flag(
    name: str, on: bool, *, starts_on: bool = False, **fields: str
) -> Callable[[World], Expected]:
    def scenario(world: World) -> Expected:
        browser = _site_admin(world)
        if name == "require-2fa":
            enable_two_factor(browser.client)
        path = f"/admin/flags/{name}"
        if on == starts_on:  # set the other way first, so that this one is a change
            _admin(world, path, "/admin/", browser, on="0" if on else "1", **fields)
        return _admin(world, path, "/admin/", browser, on="1" if on else "0", **fields)

    return scenario


def _on_hugo(what: str, first: str | None = None) -> Callable[[World], Expected]:
    def scenario(world: World) -> Expected:
        browser = _site_admin(world)
        page = "/admin/users/"
        if first is not None:
            _admin(world, page + first, page, browser, email=world.helper.email)
        fields = {"email": world.helper.email}
        if what == "remove":
            fields["confirm"] = world.helper.email
        return _admin(world, page + what, page, browser, **fields)

    return scenario


def _reset_hugos_two_factor(world: World) -> Expected:
    helper = Browser(world.app)
    helper.log_in(world.helper.email)
    enable_two_factor(helper.client)
    return _on_hugo("reset-2fa")(world)


def _prohibit(world: World) -> Expected:
    return _admin(
        world, "/admin/names/prohibit", "/admin/names/", name="internal-lib", reason="ours"
    )


def _allow(world: World) -> Expected:
    browser = _site_admin(world)
    _admin(
        world, "/admin/names/prohibit", "/admin/names/", browser, name="internal-lib", reason="x"
    )
    return _admin(world, "/admin/names/allow", "/admin/names/", browser, name="internal-lib")


def _transfer(world: World) -> Expected:
    page = "/admin/projects/"
    _admin(world, page + "transfer", page, project="demo", email=world.helper.email)
    return Expected(world.owner.id, "demo")


def _remove_project(world: World) -> Expected:
    page = "/admin/projects/"
    _admin(world, page + "delete", page, project="demo", confirm="demo")
    # The project's row is gone: the audit row keeps its name in its detail, not a key.
    return Expected(world.owner.id)


def _add_publisher(world: World) -> Expected:
    return _manage(
        world, "publishers/add", kind="github", repository="acme/demo", workflow="release.yml"
    )


def _remove_publisher(world: World) -> Expected:
    _add_publisher(world)
    [publisher] = publishers.for_project(world.db, "demo")
    return _manage(world, "publishers/remove", world.browser, publisher_id=str(publisher.id))


def _mint_publisher_token(world: World) -> Expected:
    settings: Settings = world.app.state.settings
    with running_issuer() as issuer:
        # The issuer is on a port of its own: trusted for this scenario only.
        world.app.state.settings = dataclasses.replace(settings, oidc_issuers=(issuer.url,))
        try:
            publishers.add(
                world.db,
                "demo",
                PublisherSpec(
                    kind=PublisherKind.GITHUB,
                    repository=REPOSITORY,
                    workflow=WORKFLOW,
                    issuer=issuer.url,
                ),
                issuers=publishers.trusted_issuers((issuer.url,)),
                added_by=world.owner.id,
            )
            world.db.commit()
            response = world.browser.client.post(
                "/_/oidc/mint-token", json={"token": issuer.token()}
            )
        finally:
            world.app.state.settings = settings
    assert response.status_code == 200, response.text
    return Expected(None, "demo")


# Teams and their members are made by site admins on the command line (tests/functional/
# test_team_cli.py checks their rows); nothing over HTTP brings these about.
COMMAND_LINE_ONLY = frozenset(
    {Action.TEAM_CREATED, Action.TEAM_MEMBER_ADDED, Action.TEAM_MEMBER_REMOVED}
)


SCENARIOS: dict[Action, Callable[[World], Expected]] = {
    Action.LOGIN: _login,
    Action.LOGIN_FAILED: _login_failed,
    Action.LOGOUT: _logout,
    Action.REGISTER: _register,
    Action.REGISTER_FAILED: _register_failed,
    Action.PASSWORD_CHANGED: _change_password,
    Action.PASSWORD_RESET_REQUESTED: _ask_for_reset,
    Action.PASSWORD_RESET: _reset_password,
    Action.EMAIL_VERIFICATION_SENT: _verification_sent,
    Action.EMAIL_VERIFIED: _verify_email,
    Action.TOKEN_CREATED: _create_token,
    Action.TOKEN_USED: _use_token,
    Action.TOKEN_REVOKED: _revoke_token,
    Action.TWO_FACTOR_ENABLED: _enable_two_factor,
    Action.TWO_FACTOR_DISABLED: _disable_two_factor,
    Action.TWO_FACTOR_FAILED: _wrong_code,
    Action.RECOVERY_CODE_USED: _use_recovery_code,
    Action.RECOVERY_CODES_REPLACED: _replace_recovery_codes,
    Action.UPLOAD: _upload,
    Action.YANK: _yank,
    Action.UNYANK: _unyank,
    Action.REMOVE_FILE: _remove_file,
    Action.REMOVE_RELEASE: _remove_release,
    Action.RETENTION_SET: _set_retention,
    Action.RETENTION_CLEARED: _clear_retention,
    Action.ADD_MAINTAINER: _add_maintainer,
    Action.REMOVE_MAINTAINER: _remove_maintainer,
    Action.CHANGE_ROLE: _change_role,
    Action.REQUIRE_2FA_ON: _require_two_factor,
    Action.REQUIRE_2FA_OFF: _stop_requiring_two_factor,
    Action.VISIBILITY_CHANGED: _make_private,
    Action.TEAM_ROLE_GRANTED: _grant_team,
    Action.TEAM_ROLE_REVOKED: _revoke_team,
    Action.PROJECT_STATUS_CHANGED: _archive,
    Action.SITE_READ_ONLY_ON: _flag("read-only", True, reason="moving"),
    Action.SITE_READ_ONLY_OFF: _flag("read-only", False, reason="moving"),
    Action.SITE_REGISTRATION_OPENED: _flag("registration", True, starts_on=True),
    Action.SITE_REGISTRATION_CLOSED: _flag("registration", False, starts_on=True),
    Action.SITE_REQUIRE_2FA_ON: _flag("require-2fa", True),
    Action.SITE_REQUIRE_2FA_OFF: _flag("require-2fa", False),
    Action.NAME_PROHIBITED: _prohibit,
    Action.NAME_ALLOWED: _allow,
    Action.ACCOUNT_DEACTIVATED: _on_hugo("deactivate"),
    Action.ACCOUNT_REACTIVATED: _on_hugo("reactivate", first="deactivate"),
    Action.TWO_FACTOR_RESET: _reset_hugos_two_factor,
    Action.ADMIN_GRANTED: _on_hugo("make-admin"),
    Action.ADMIN_REVOKED: _on_hugo("revoke-admin", first="make-admin"),
    Action.ACCOUNT_REMOVED: _on_hugo("remove"),
    Action.OWNERSHIP_TRANSFERRED: _transfer,
    Action.PROJECT_REMOVED: _remove_project,
    Action.PUBLISHER_ADDED: _add_publisher,
    Action.PUBLISHER_REMOVED: _remove_publisher,
    Action.PUBLISHER_TOKEN_MINTED: _mint_publisher_token,
}


def rows_of(db: Session, action: Action) -> list[AuditEvent]:
    db.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action.value)
    return list(db.scalars(query.order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    "action", [a for a in Action if a not in COMMAND_LINE_ONLY], ids=lambda action: action.name
)
def test_each_action_over_http_leaves_one_row_with_its_origin(world: World, action: Action) -> None:
    scenario = SCENARIOS.get(action)
    assert scenario is not None, f"no scenario brings about {action!r} over HTTP: add one"
    assert rows_of(world.db, action) == []
    expected = scenario(world)
    [row] = rows_of(world.db, action)
    assert (row.user_id, row.package_id) == (expected.user_id, expected.package_id)
    assert (row.ip_address, row.user_agent) == (IP, USER_AGENT)


def test_every_scenario_is_for_an_action_that_exists() -> None:
    assert set(SCENARIOS) | COMMAND_LINE_ONLY == set(Action)
    assert not set(SCENARIOS) & COMMAND_LINE_ONLY


# --- tokens: named, never revealed; downloads leave nothing -----------------------------------


def test_a_refused_upload_still_records_the_tokens_use_without_its_secret(
    world: World, make: Factory
) -> None:
    make.package("other", owner=world.owner)
    world.db.commit()
    secret = world.token(package_id="other")
    response = world.browser.upload(Project("demo", "3.0"), secret)
    assert response.status_code == 403
    [row] = rows_of(world.db, Action.TOKEN_USED)
    token = tokens.find_valid_token(world.db, secret)
    assert token is not None
    assert row.detail == f"token {token.id}: ci"
    assert (row.user_id, row.package_id, row.ip_address) == (world.owner.id, "other", IP)
    every_value = [
        str(value)
        for event in world.db.scalars(sa.select(AuditEvent))
        for value in (event.detail, event.user_agent, event.ip_address)
    ]
    assert not any(secret in value or secret[10:30] in value for value in every_value)
    assert rows_of(world.db, Action.UPLOAD) == []


def test_downloads_and_index_pages_write_no_audit_rows(world: World) -> None:
    _use_token(world)
    count = sa.select(sa.func.count()).select_from(AuditEvent)
    before = world.db.scalar(count)
    client = world.browser.client
    page = client.get("/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    [url] = [file["url"] for file in page.json()["files"] if file["filename"].startswith("demo-3")]
    for _ in range(3):
        assert client.get(str(page.url.join(url))).status_code == 200
    assert client.get("/pypi/demo/json").status_code == 200
    world.db.expire_all()
    assert world.db.scalar(count) == before


# --- the pages that list the rows -------------------------------------------------------------


def _table(page: str, css_class: str) -> str:
    match = re.search(rf'<table class="data audit-events {css_class}">(.*?)</table>', page, re.S)
    assert match, f"no {css_class} table"
    return match.group(1)


def test_the_account_page_lists_the_accounts_own_events_only(world: World, make: Factory) -> None:
    make.user(name="Stranger", email="stranger@example.com")
    world.db.commit()
    stranger = Browser(world.app, ip="198.51.100.99", user_agent="stranger-agent/9")
    assert stranger.log_in("stranger@example.com").status_code == 303
    assert stranger.log_in(world.owner.email, "a guess").status_code == 400  # Olive's row

    browser = world.owner_logged_in()
    enable_two_factor(browser.client)
    assert (
        browser.post("/account/tokens", "/account/tokens", description="laptop").status_code == 200
    )

    page = browser.client.get("/account")
    assert page.headers["cache-control"] == "no-store"  # addresses are not for shared caches
    events = _table(page.text, "account-events")
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', events, re.S)
    # Newest first; Olive's failed login from the stranger's machine is hers to see.
    assert [action for action, _ in rows] == [
        Action.TOKEN_CREATED,
        Action.TWO_FACTOR_ENABLED,
        Action.LOGIN,
        Action.LOGIN_FAILED,
    ]
    cells = dict(rows)
    assert "API token created" in cells[Action.TOKEN_CREATED]
    assert re.search(r"token \d+: laptop", cells[Action.TOKEN_CREATED])
    assert "Two-factor login turned on" in cells[Action.TWO_FACTOR_ENABLED]
    assert "Logged in" in cells[Action.LOGIN]
    assert IP in cells[Action.LOGIN] and "Mozilla/5.0" in cells[Action.LOGIN]
    assert "Failed login" in cells[Action.LOGIN_FAILED]
    assert "198.51.100.99" in cells[Action.LOGIN_FAILED]
    assert "stranger-agent/9" in cells[Action.LOGIN_FAILED]
    # The stranger's own login is theirs alone.
    for action, shown in rows:
        if action != Action.LOGIN_FAILED:
            assert "stranger-agent" not in shown and "198.51.100.99" not in shown


def test_a_long_user_agent_is_shortened_on_the_page_and_kept_whole_in_its_title(
    world: World,
) -> None:
    agent = "LongAgent/1.0 " + "x" * 300
    browser = Browser(world.app, user_agent=agent)
    assert browser.log_in(world.owner.email).status_code == 303
    page = browser.client.get("/account")
    assert page.headers["cache-control"] == "no-store"  # addresses are not for shared caches
    events = _table(page.text, "account-events")
    assert f'title="{agent}"' in events
    shown = re.search(r'<td class="user-agent"[^>]*>([^<]*)</td>', events)
    assert shown is not None
    assert shown.group(1).startswith("LongAgent/1.0") and shown.group(1).endswith("…")
    assert len(shown.group(1)) <= 48


def test_the_manage_page_lists_the_projects_events_with_their_origin(
    world: World, make: Factory
) -> None:
    make.package("elsewhere", owner=world.owner)
    world.db.commit()
    _yank(world)
    browser = world.browser
    other = "/manage/project/elsewhere/"
    response = browser.post(other + "release/yank", other, version="1.0", reason="elsewhere only")
    assert response.status_code == 303

    events = _table(browser.client.get(MANAGE).text, "project-activity")
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', events, re.S)
    assert [action for action, _ in rows] == [Action.YANK]
    [(_, cells)] = rows
    for shown in ("Olive Owner", "Release yanked", "1.0: broken", IP, "Mozilla/5.0"):
        assert shown in cells
    assert "elsewhere only" not in events
