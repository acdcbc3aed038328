"""PyPI's trusted publishing endpoints on the app: audience, mint-token, and uploads with
the minted token, against a real OIDC issuer on loopback (tests/helpers/oidc_issuer.py).

Every refusal is a 422 with PyPI's body and code, and stores nothing: no token, no used
jti, no audit row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.dists import Project, wheel
from tests.helpers.oidc_issuer import REPOSITORY, WORKFLOW, Issuer, new_key, running_issuer
from tests.helpers.uploads import basic_auth, twine_fields
from wheelyard.config import Settings
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.oidc_used_token import OidcUsedToken
from wheelyard.data.package import Package
from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.data.user import User
from wheelyard.services import audit, clock
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.publishers import PublisherSpec

LIB = Project("widgets", "1.0")


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture
def oidc_settings(settings: Settings, issuer: Issuer) -> Settings:
    return dataclasses.replace(settings, oidc_issuers=(issuer.url,))


@pytest.fixture
def oidc_app(oidc_settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    return app_for(oidc_settings, sessions)


@pytest.fixture
def oidc_client(oidc_app: Starlette) -> Iterator[TestClient]:
    with TestClient(oidc_app, base_url="http://testserver") as client:
        yield client


def add_github(
    db: Session, issuer: Issuer, project: str = "widgets", added_by: User | None = None, **more: Any
) -> TrustedPublisher:
    spec = PublisherSpec(
        kind=PublisherKind.GITHUB,
        repository=more.pop("repository", REPOSITORY),
        workflow=more.pop("workflow", WORKFLOW),
        issuer=issuer.url,
        **more,
    )
    return publishers.add(
        db,
        project,
        spec,
        issuers=publishers.trusted_issuers((issuer.url,)),
        added_by=added_by.id if added_by is not None else None,
    )


def mint(client: TestClient, token: str, path: str = "/_/oidc/mint-token") -> httpx.Response:
    return client.post(path, json={"token": token})


def upload(client: TestClient, secret: str, project: Project = LIB) -> httpx.Response:
    dist = wheel(project)
    return client.post(
        "/legacy/",
        data=twine_fields(dist),
        files={"content": (dist.filename, dist.content, "application/octet-stream")},
        headers=basic_auth("__token__", secret),
    )


def stored(db: Session) -> dict[str, int]:
    return {
        "tokens": db.scalar(sa.select(sa.func.count()).select_from(PublisherToken)) or 0,
        "jtis": db.scalar(sa.select(sa.func.count()).select_from(OidcUsedToken)) or 0,
        "audit": db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0,
        "files": db.scalar(sa.select(sa.func.count()).select_from(ReleaseFile)) or 0,
    }


def refused(response: httpx.Response, code: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"] == "Token request failed"
    assert [error["code"] for error in body["errors"]] == [code], body
    description: str = body["errors"][0]["description"]
    return description


# --- the audience ---------------------------------------------------------------------------


def test_the_audience_is_the_site_name_or_the_configured_one(
    client: TestClient, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    assert client.get("/_/oidc/audience").json() == {"audience": "wheelyard"}
    configured = app_for(dataclasses.replace(settings, oidc_audience="pypi.acme.test"), sessions)
    with TestClient(configured, base_url="http://testserver") as other:
        assert other.get("/_/oidc/audience").json() == {"audience": "pypi.acme.test"}


def test_turned_off_the_audience_is_403_and_minting_not_enabled(
    settings: Settings, sessions: sessionmaker[Session], db: Session, issuer: Issuer
) -> None:
    off = app_for(
        dataclasses.replace(settings, trusted_publishing=False, oidc_issuers=(issuer.url,)),
        sessions,
    )
    add_github(db, issuer)
    with TestClient(off, base_url="http://testserver") as client:
        assert client.get("/_/oidc/audience").status_code == 403
        refused(mint(client, issuer.token()), "not-enabled")
    assert stored(db)["tokens"] == 0


# --- minting and uploading ------------------------------------------------------------------


def test_a_matching_token_mints_an_upload_token_that_uploads(
    oidc_client: TestClient, db: Session, issuer: Issuer, make: Any
) -> None:
    owner = make.user(email="owner@example.com")
    make.package("widgets", versions=(), owner=owner)
    publisher = add_github(db, issuer, added_by=owner)

    response = mint(oidc_client, issuer.token())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    secret = body["token"]
    token = db.scalars(sa.select(PublisherToken)).one()
    assert token.expires - clock.now() <= dt.timedelta(minutes=15)
    assert token.expires - clock.now() > dt.timedelta(minutes=14)
    minted = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == audit.Action.PUBLISHER_TOKEN_MINTED)
    ).one()
    assert minted.package_id == "widgets"
    assert f"trusted publisher {publisher.id}" in (minted.detail or "")
    assert '"repository": "acme/widgets"' in (minted.detail or "")

    uploaded = upload(oidc_client, secret)

    assert uploaded.status_code == 200, uploaded.text
    file = db.scalars(sa.select(ReleaseFile)).one()
    assert file.published_from == "acme/widgets by release.yml"
    assert file.uploaded_by is None
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == audit.Action.UPLOAD)).one()
    assert "acme/widgets by release.yml" in (event.detail or "")
    assert '"workflow_ref"' in (event.detail or "")
    page = oidc_client.get("/project/widgets/")
    assert "published from acme/widgets by release.yml" in page.text


def test_the_legacy_github_alias_mints_too(
    oidc_client: TestClient, db: Session, issuer: Issuer
) -> None:
    add_github(db, issuer)
    response = mint(oidc_client, issuer.token(), "/_/oidc/github/mint-token")
    assert response.status_code == 200, response.text


def test_a_pending_publisher_creates_its_project_owned_by_who_added_it(
    oidc_client: TestClient, db: Session, issuer: Issuer, make: Any
) -> None:
    ada = make.user(email="ada@example.com")
    publisher = add_github(db, issuer, added_by=ada)
    assert publisher.pending

    secret = mint(oidc_client, issuer.token()).json()["token"]
    assert upload(oidc_client, secret).status_code == 200

    assert db.get(Package, "widgets") is not None
    assert db.get(Maintainer, (ada.id, "widgets")) is not None
    db.refresh(publisher)
    assert not publisher.pending


def test_a_pending_publisher_loses_to_someone_else_creating_the_project(
    oidc_client: TestClient, db: Session, issuer: Issuer, make: Any
) -> None:
    add_github(db, issuer)
    make.package("widgets", versions=(), owner=make.user(email="eve@example.com"))
    refused(mint(oidc_client, issuer.token()), "invalid-publisher")


def test_the_minted_token_reaches_no_other_project(
    oidc_client: TestClient, db: Session, issuer: Issuer, make: Any
) -> None:
    make.package("gadgets", versions=(), owner=make.user(email="other@example.com"))
    add_github(db, issuer)
    secret = mint(oidc_client, issuer.token()).json()["token"]
    before = stored(db)

    response = upload(oidc_client, secret, Project("gadgets", "1.0"))

    assert response.status_code == 403
    assert "no publisher of project 'gadgets'" in response.text
    assert stored(db)["files"] == before["files"]


def test_an_expired_minted_token_cannot_upload(
    oidc_client: TestClient, db: Session, issuer: Issuer
) -> None:
    add_github(db, issuer)
    secret = mint(oidc_client, issuer.token()).json()["token"]
    token = db.scalars(sa.select(PublisherToken)).one()
    token.expires = clock.now() - dt.timedelta(seconds=1)
    db.flush()

    response = upload(oidc_client, secret)

    assert response.status_code == 403
    assert "15 minutes" in response.text
    assert stored(db)["files"] == 0


def test_a_removed_publisher_stops_the_token_it_minted(
    oidc_client: TestClient, db: Session, issuer: Issuer
) -> None:
    publisher = add_github(db, issuer)
    secret = mint(oidc_client, issuer.token()).json()["token"]
    publishers.remove(db, "widgets", publisher.id, actor_id=None)
    assert upload(oidc_client, secret).status_code == 403


def test_rotated_keys_are_fetched_again_for_an_unknown_kid(
    oidc_client: TestClient, db: Session, issuer: Issuer, oidc_app: Starlette
) -> None:
    add_github(db, issuer)
    oidc_app.state.issuer_keys._refetch = 0  # the cache may ask again at once
    assert mint(oidc_client, issuer.token()).status_code == 200
    issuer.keys["rotated"] = new_key()

    response = mint(oidc_client, issuer.token(kid="rotated"))

    assert response.status_code == 200, response.text
    assert issuer.fetches.count("/jwks") == 2


# --- refusals: 422, PyPI's code, nothing stored ---------------------------------------------


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong repository", "invalid-publisher"),
        ("wrong workflow", "invalid-publisher"),
        ("expired", "invalid-token"),
        ("not yet valid", "invalid-token"),
        ("issued in the future", "invalid-token"),
        ("wrong audience", "invalid-token"),
        ("unknown kid", "invalid-token"),
        ("signed by another key", "invalid-token"),
        ("no jti", "invalid-token"),
        ("unlisted issuer", "invalid-payload"),
        ("not a jwt", "invalid-payload"),
    ],
)
def test_a_bad_token_is_refused_with_its_code(
    oidc_client: TestClient, db: Session, issuer: Issuer, case: str, code: str
) -> None:
    add_github(db, issuer)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    tokens = {
        "wrong repository": lambda: issuer.token(repository="acme/other"),
        "wrong workflow": lambda: issuer.token(
            workflow_ref="acme/widgets/.github/workflows/ci.yml@refs/heads/main",
            job_workflow_ref="acme/widgets/.github/workflows/ci.yml@refs/heads/main",
        ),
        "expired": lambda: issuer.token(issued_at=now - 900, lifetime=300),
        "not yet valid": lambda: issuer.token(nbf=now + 600),
        "issued in the future": lambda: issuer.token(issued_at=now + 600),
        "wrong audience": lambda: issuer.token(audience="pypi"),
        "unknown kid": lambda: issuer.token(kid="nobody", key=new_key()),
        "signed by another key": lambda: issuer.token(key=new_key()),
        "no jti": lambda: _without_jti(issuer),
        "unlisted issuer": lambda: issuer.token(iss="http://127.0.0.1:1"),
        "not a jwt": lambda: "not.a.jwt",
    }
    before = stored(db)

    refused(mint(oidc_client, tokens[case]()), code)

    assert stored(db) == before


def _without_jti(issuer: Issuer) -> str:
    import jwt

    token = issuer.token()
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["jti"]
    return jwt.encode(
        claims, issuer.keys[issuer.kid], algorithm="RS256", headers={"kid": issuer.kid}
    )


def test_a_replayed_jti_is_refused(oidc_client: TestClient, db: Session, issuer: Issuer) -> None:
    add_github(db, issuer)
    token = issuer.token()
    assert mint(oidc_client, token).status_code == 200
    before = stored(db)

    description = refused(mint(oidc_client, token), "invalid-reuse-token")

    assert "already used" in description
    assert stored(db) == before


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"token": 1}', b'{"other": "x"}'],
)
def test_a_malformed_payload_is_invalid_payload(
    oidc_client: TestClient, db: Session, body: bytes
) -> None:
    response = oidc_client.post(
        "/_/oidc/mint-token", content=body, headers={"Content-Type": "application/json"}
    )
    refused(response, "invalid-payload")
    assert stored(db)["tokens"] == 0


def test_an_environment_must_match_when_the_publisher_names_one(
    oidc_client: TestClient, db: Session, issuer: Issuer
) -> None:
    add_github(db, issuer, environment="release")
    refused(mint(oidc_client, issuer.token()), "invalid-publisher")
    assert mint(oidc_client, issuer.token(environment="Release")).status_code == 200


def test_a_private_index_lets_ci_jobs_mint_and_upload(
    oidc_settings: Settings, sessions: sessionmaker[Session], db: Session, issuer: Issuer
) -> None:
    add_github(db, issuer)
    private = app_for(dataclasses.replace(oidc_settings, private=True), sessions)
    with TestClient(private, base_url="http://testserver") as client:
        assert client.get("/_/oidc/audience").json() == {"audience": "wheelyard"}
        response = mint(client, issuer.token())
        assert response.status_code == 200, response.text
        assert upload(client, response.json()["token"]).status_code == 200
        assert client.get("/simple/widgets/").status_code == 401  # reading still needs more
