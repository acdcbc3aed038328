"""/_health/live and /_health/ready: what each answers, and each way ready fails."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.environment import postgres_url
from tests.helpers.live_server import scratch_database
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.services.ops import schema


def get(settings: Settings, sessions: sessionmaker[Session], path: str, **kwargs: Any) -> Any:
    with TestClient(app_for(settings, sessions), base_url="http://testserver") as client:
        return client.get(path, **kwargs)


def test_live_touches_nothing(settings: Settings, tmp_path: Path) -> None:
    # Sessions on a database that cannot be opened: live answers all the same.
    broken = session_factory(sa.create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    response = get(settings, broken, "/_health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}
    assert response.headers["cache-control"] == "no-store"


def test_ready_when_everything_answers(client: TestClient) -> None:
    response = client.get("/_health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert body["checks"]["migrations"] == {
        "ok": True,
        "detail": f"at head ({schema.head_revision()})",
    }
    assert body["checks"]["storage"]["ok"] is True
    assert body["checks"]["database"]["ok"] is True
    assert response.headers["cache-control"] == "no-store"


def test_the_probe_leaves_no_blob(client: TestClient, settings: Settings) -> None:
    assert client.get("/_health/ready").status_code == 200
    assert [path for path in settings.storage_path.rglob("*") if path.is_file()] == []


def test_unwritable_storage_is_named(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    response = get(replace(settings, storage_path=blocker / "files"), sessions, "/_health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["failed"] == ["storage"]
    assert body["checks"]["storage"]["detail"].startswith("not writable: ")
    assert str(tmp_path) not in response.text  # the reason names no path


def test_unreachable_database_is_named(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    broken = session_factory(sa.create_engine(f"sqlite:///{blocker}/x.db"))
    response = get(settings, broken, "/_health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database", "migrations"]
    assert body["checks"]["database"]["detail"].startswith("unreachable: OperationalError")
    assert body["checks"]["storage"]["ok"] is True


def test_pending_migrations_are_named(settings: Settings, tmp_path: Path) -> None:
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine, "0018")
            response = get(settings, session_factory(engine), "/_health/ready")
        finally:
            engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["detail"] == f"at 0018, {schema.head_revision()} pending"


@pytest.mark.parametrize("path", ["/_health/live", "/_health/ready"])
def test_open_on_a_private_site_and_for_any_host(
    settings: Settings, sessions: sessionmaker[Session], path: str
) -> None:
    private = replace(settings, private=True)
    assert get(private, sessions, "/simple/").status_code == 401
    assert get(private, sessions, path).status_code == 200
    # A probe names the server by its address, which WHEELYARD_ALLOWED_HOSTS need not list.
    assert get(private, sessions, path, headers={"Host": "10.0.0.7:8000"}).status_code == 200
    assert get(private, sessions, "/", headers={"Host": "10.0.0.7:8000"}).status_code == 400
