"""PyPI's XML-RPC API at POST /pypi: the methods mirrors and pip search call, with PyPI's
answers; private projects left out; hostile and malformed calls answered with a fault or a
4xx, and never anything else."""

from __future__ import annotations

import dataclasses
import xmlrpc.client
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.factories import Factory
from tests.helpers.uploads import basic_auth
from wheelyard.config import Settings
from wheelyard.data.api_token import TokenScope
from wheelyard.data.package import Package, Visibility
from wheelyard.data.user import User
from wheelyard.services import journal
from wheelyard.services.accounts import tokens

XML = {"Content-Type": "text/xml"}


def call(
    client: TestClient, method: str, *params: Any, headers: dict[str, str] | None = None
) -> Any:
    response = client.post(
        "/pypi", content=xmlrpc.client.dumps(params, method), headers={**XML, **(headers or {})}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    (value,), _method = xmlrpc.client.loads(response.content, use_builtin_types=True)
    return value


def fault(client: TestClient, body: bytes | str) -> xmlrpc.client.Fault:
    response = client.post("/pypi", content=body, headers=XML)
    assert response.status_code == 200, response.text
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(response.content)
    return raised.value


@pytest.fixture
def index(db: Session, make: Factory, owner: User) -> dict[str, Package]:
    """flask (3.0.0, 3.1.0rc1), flask-login and requests, each with journal entries as
    uploads write them, and a private project of the owner's."""
    made = {
        "Flask": make.package(
            "Flask", summary="A micro web framework", versions=("3.0.0", "3.1.0rc1"), owner=owner
        ),
        "flask-login": make.package(
            "flask-login", summary="User sessions for web apps", versions=("0.6.3",)
        ),
        "requests": make.package("requests", summary="HTTP for humans", versions=("2.32",)),
        "zephyr-secret": make.package(
            "zephyr-secret", summary="flask secrets", versions=("1.0",), owner=owner
        ),
    }
    made["zephyr-secret"].visibility = Visibility.PRIVATE
    for package in made.values():
        journal.record(db, package, journal.Action.CREATE)
        for release in reversed(package.releases):
            journal.record(db, package, journal.Action.NEW_RELEASE, version=release.version)
            for file in release.files:
                journal.record(
                    db,
                    package,
                    journal.Action.ADD_FILE,
                    version=release.version,
                    filename=file.filename,
                )
    db.flush()
    return made


def test_lists_and_serials_leave_private_projects_out(
    client: TestClient, index: dict[str, Package]
) -> None:
    assert call(client, "list_packages") == ["Flask", "flask-login", "requests"]
    serials = call(client, "list_packages_with_serial")
    assert serials == {
        name: index[name].last_serial for name in ("Flask", "flask-login", "requests")
    }
    last = call(client, "changelog_last_serial")
    assert last == max(package.last_serial for package in index.values())


def test_changelog_since_serial_in_pypi_shape(
    client: TestClient, index: dict[str, Package]
) -> None:
    flask_serial = index["Flask"].last_serial
    entries = call(client, "changelog_since_serial", flask_serial)
    names = [entry[0] for entry in entries]
    assert names == ["flask-login"] * 3 + ["requests"] * 3
    name, version, timestamp, action, serial = entries[1]
    assert (name, version, action) == ("flask-login", "0.6.3", "new release")
    assert isinstance(timestamp, int) and timestamp > 1_600_000_000
    assert serial > flask_serial
    assert entries[2][3] == "add file flask_login-0.6.3-py3-none-any.whl"
    # Serials only grow, and the private project is nowhere.
    assert [entry[4] for entry in entries] == sorted(entry[4] for entry in entries)
    assert all(entry[0] != "zephyr-secret" for entry in call(client, "changelog_since_serial", 0))


def test_changelog_by_time_with_and_without_ids(
    client: TestClient, index: dict[str, Package]
) -> None:
    with_ids = call(client, "changelog", 0, True)
    without = call(client, "changelog", 0)
    assert [entry[:4] for entry in with_ids] == without
    assert {len(entry) for entry in without} == {4}
    assert len(with_ids) == 3 + 5 + 3  # Flask has two releases; the private project is left out
    assert call(client, "changelog", 2**31 - 1) == []
    # Past any BIGINT (an <int> of digits has no bound here): nothing, or a fault; no error.
    huge = b"<value><int>" + b"9" * 40 + b"</int></value>"
    since_serial = b"<methodName>changelog_since_serial</methodName>"
    assert call_raw(client, since_serial, huge) == []
    with pytest.raises(xmlrpc.client.Fault, match="since is not a time"):
        call_raw(client, b"<methodName>changelog</methodName>", huge)


def call_raw(client: TestClient, method: bytes, value: bytes) -> Any:
    body = b"<methodCall>" + method + b"<params><param>" + value + b"</param></params></methodCall>"
    response = client.post("/pypi", content=body, headers=XML)
    assert response.status_code == 200, response.text
    return xmlrpc.client.loads(response.content)[0][0]


def test_package_releases_latest_or_all(client: TestClient, index: dict[str, Package]) -> None:
    assert call(client, "package_releases", "flask") == ["3.0.0"]
    assert call(client, "package_releases", "Flask", True) == ["3.1.0rc1", "3.0.0"]
    assert call(client, "package_releases", "no-such-project") == []
    assert call(client, "package_releases", "zephyr-secret", True) == []


def test_release_urls_and_release_data(client: TestClient, index: dict[str, Package]) -> None:
    (file,) = call(client, "release_urls", "flask", "3.0.0")
    (stored,) = next(r for r in index["Flask"].releases if r.version == "3.0.0").files
    assert file["filename"] == stored.filename
    assert file["sha256_digest"] == stored.sha256_digest
    assert file["digests"]["md5"] == stored.md5_digest
    assert file["packagetype"] == "bdist_wheel"
    assert "url" in file  # None here: the factory stores no bytes (the live tests download)
    data = call(client, "release_data", "flask", "3.0.0")
    assert data["name"] == "Flask"
    assert data["version"] == "3.0.0"
    assert data["summary"] == "A micro web framework"
    assert data["downloads"] == {"last_day": -1, "last_month": -1, "last_week": -1}
    assert call(client, "release_data", "flask", "9.9") == {}
    assert call(client, "release_urls", "zephyr-secret", "1.0") == []
    assert call(client, "release_data", "zephyr-secret", "1.0") == {}


def test_roles_and_user_packages(
    client: TestClient, index: dict[str, Package], owner: User
) -> None:
    assert call(client, "package_roles", "flask") == [["Owner", "Olive Owner"]]
    assert call(client, "package_roles", "zephyr-secret") == []
    assert call(client, "user_packages", "Olive Owner") == [["Owner", "Flask"]]
    assert call(client, "user_packages", "Nobody") == []


def test_credentials_show_the_readers_own_private_projects(
    client: TestClient, db: Session, index: dict[str, Package], owner: User, make: Factory
) -> None:
    _token, secret = tokens.create_token(db, owner, description="read", scope=TokenScope.READ)
    stranger = make.user(name="Stan Stranger")
    _other, stranger_secret = tokens.create_token(
        db, stranger, description="read", scope=TokenScope.READ
    )
    db.flush()
    mine = basic_auth("__token__", secret)
    assert "zephyr-secret" in call(client, "list_packages", headers=mine)
    assert call(client, "package_releases", "zephyr-secret", headers=mine) == ["1.0"]
    assert call(client, "user_packages", "Olive Owner", headers=mine) == [
        ["Owner", "Flask"],
        ["Owner", "zephyr-secret"],
    ]
    theirs = basic_auth("__token__", stranger_secret)
    assert "zephyr-secret" not in call(client, "list_packages", headers=theirs)
    assert call(client, "search", {"name": "zephyr"}, headers=theirs) == []
    # Wrong credentials count as none.
    assert "zephyr-secret" not in call(
        client, "list_packages", headers=basic_auth("__token__", "nope")
    )


def test_search_ranks_as_the_search_page(client: TestClient, index: dict[str, Package]) -> None:
    # pip's call: {"name": q, "summary": q} with "or".
    hits = call(client, "search", {"name": "flask", "summary": "flask"}, "or")
    assert [hit["name"] for hit in hits] == ["Flask", "flask-login"]
    assert hits[0]["version"] == "3.0.0"
    assert hits[0]["summary"] == "A micro web framework"
    page = client.get("/search", params={"q": "flask"}).text
    assert page.index(">Flask<") < page.index(">flask-login<")
    assert [
        hit["name"] for hit in call(client, "search", {"summary": ["humans", "web"]}, "or")
    ] == ["requests", "Flask", "flask-login"]
    assert [hit["name"] for hit in call(client, "search", {"summary": ["web", "sessions"]})] == [
        "flask-login"
    ]


def test_the_journal_serial_on_simple_pages(
    client: TestClient, index: dict[str, Package], db: Session
) -> None:
    page = client.get("/simple/flask/", headers={"Accept": "text/html"})
    serial = index["Flask"].last_serial
    assert page.headers["X-PyPI-Last-Serial"] == str(serial)
    assert page.text.rstrip().endswith(f"<!--SERIAL {serial}-->")
    listing = client.get("/simple/", headers={"Accept": "text/html"})
    index_serial = listing.headers["X-PyPI-Last-Serial"]
    assert listing.text.rstrip().endswith(f"<!--SERIAL {index_serial}-->")
    assert int(index_serial) >= serial


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b"<methodCall><methodName>nope</methodName><params/></methodCall>",
            "no method 'nope'",
            id="unknown method",
        ),
        pytest.param(
            xmlrpc.client.dumps((1, 2), "list_packages"),
            "takes 0 parameters",
            id="too many parameters",
        ),
        pytest.param(
            xmlrpc.client.dumps(("ten",), "changelog_since_serial"),
            "must be an integer",
            id="string for int",
        ),
        pytest.param(
            xmlrpc.client.dumps((True,), "changelog_since_serial"),
            "must be an integer",
            id="bool for int",
        ),
        pytest.param(
            xmlrpc.client.dumps((-1,), "changelog_since_serial"),
            "must not be negative",
            id="negative serial",
        ),
        pytest.param(
            xmlrpc.client.dumps((2**31 - 1, "x"), "changelog"),
            "must be a boolean",
            id="string for bool",
        ),
        pytest.param(
            xmlrpc.client.dumps(([1],), "package_releases"), "must be a string", id="list for name"
        ),
        pytest.param(
            xmlrpc.client.dumps(("a" * 300,), "package_releases"), "not a valid", id="long name"
        ),
        pytest.param(
            xmlrpc.client.dumps(("flask\x00",), "package_roles"), "not well-formed", id="NUL"
        ),
        pytest.param(
            xmlrpc.client.dumps(("flask",), "search"), "spec must be a struct", id="string spec"
        ),
        pytest.param(
            xmlrpc.client.dumps(({"author": "x"},), "search"),
            "does not know the field",
            id="unknown field",
        ),
        pytest.param(
            xmlrpc.client.dumps(({"name": "x"}, "xor"), "search"),
            "operator must be",
            id="bad operator",
        ),
        pytest.param(
            xmlrpc.client.dumps(({"name": 5},), "search"), "must be a string", id="int term"
        ),
        pytest.param(
            b"<methodCall><methodName>list_packages</methodName>", "not well-formed", id="truncated"
        ),
        pytest.param(b"not xml at all", "not well-formed", id="not xml"),
        pytest.param(b"<methodCall><params/></methodCall>", "names no method", id="no method name"),
        pytest.param(
            b"<methodCall><methodName>changelog_since_serial</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
            "not an XML-RPC call",
            id="bad int",
        ),
        pytest.param(
            b"<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
            "",
            id="a fault sent as a call",
        ),
        pytest.param(b"<a>" * 100 + b"</a>" * 100, "nested deeper", id="deep nesting"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b"<methodCall><methodName>&lol3;</methodName></methodCall>",
            "refused XML",
            id="billion laughs",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<methodCall><methodName>&x;</methodName></methodCall>",
            "refused XML",
            id="external entity",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/x.dtd">'
            b"<methodCall><methodName>list_packages</methodName></methodCall>",
            "refused XML",
            id="external DTD",
        ),
    ],
)
def test_bad_calls_get_a_fault_with_the_reason(
    client: TestClient, index: dict[str, Package], body: bytes | str, reason: str
) -> None:
    found = fault(client, body)
    assert reason in found.faultString
    assert found.faultCode < 0


def test_huge_wrongly_typed_or_not_posted_bodies_get_a_4xx(client: TestClient) -> None:
    huge = (
        b"<methodCall><methodName>list_packages</methodName>"
        + b" " * (1024 * 1024)
        + b"</methodCall>"
    )
    response = client.post("/pypi", content=huge, headers=XML)
    assert response.status_code == 413
    assert "too large" in response.text
    chunks = iter([b"<methodCall>" + b" " * 65536] * 20)
    assert client.post("/pypi", content=chunks, headers=XML).status_code == 413
    response = client.post(
        "/pypi",
        content=xmlrpc.client.dumps((), "list_packages"),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 415
    assert client.get("/pypi").status_code == 405


def test_calls_are_limited_per_client(settings: Settings, sessions: sessionmaker[Session]) -> None:
    app = app_for(dataclasses.replace(settings, xmlrpc_calls_per_minute=3), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        for _ in range(3):
            assert call(client, "changelog_last_serial") == 0
        refused = fault(client, xmlrpc.client.dumps((), "changelog_last_serial"))
        assert "too many requests" in refused.faultString


def test_a_private_site_asks_for_credentials_first(
    settings: Settings,
    sessions: sessionmaker[Session],
    db: Session,
    index: dict[str, Package],
    owner: User,
) -> None:
    _token, secret = tokens.create_token(db, owner, description="read", scope=TokenScope.READ)
    db.flush()
    app = app_for(dataclasses.replace(settings, private=True), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        body = xmlrpc.client.dumps((), "list_packages")
        refused = client.post("/pypi", content=body, headers=XML, follow_redirects=False)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="wheelyard"'
        assert "Flask" not in refused.text
        mine = basic_auth("__token__", secret)
        assert call(client, "list_packages", headers=mine) == [
            "Flask",
            "flask-login",
            "requests",
            "zephyr-secret",
        ]
