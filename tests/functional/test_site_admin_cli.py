"""The site admin's commands: ``wheelyard site``, ``user ...``, ``project ...``, audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.helpers.environment import postgres_url
from tests.helpers.factories import Factory
from tests.helpers.live_server import scratch_database
from tests.helpers.passwords import cheap_passwords
from wheelyard.cli import main
from wheelyard.data.api_token import ApiToken
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, ProjectStatus
from wheelyard.data.user import User
from wheelyard.services.accounts import tokens
from wheelyard.services.ops import schema
from wheelyard.services.site import flags


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    with scratch_database(postgres_url(), tmp_path) as url:
        engine = create_engine(url)
        schema.upgrade(engine)
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            owner = make.user(email="owner@example.com")
            ada = make.user(email="ada@example.com")
            ada.totp_secret = "sealed"
            tokens.create_token(db, ada, description="ci")
            make.package("demo", versions=("1.0",), owner=owner)
        try:
            yield engine
        finally:
            engine.dispose()


def run(engine: sa.Engine, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "WHEELYARD_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "WHEELYARD_VAR_DIR": str(tmp_path),
        "WHEELYARD_STORAGE_PATH": str(tmp_path / "files"),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def _actions(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_site_flags(engine: sa.Engine, tmp_path: Path) -> None:
    code, out = run(engine, tmp_path, "site", "read-only", "on", "--reason", "Moving disks.")
    assert code == 0 and "read-only mode is now on" in out
    code, out = run(engine, tmp_path, "site", "registration", "closed")
    assert code == 0
    code, out = run(engine, tmp_path, "site", "require-2fa", "on")
    assert code == 0
    code, out = run(engine, tmp_path, "site", "show")
    assert out.splitlines() == [
        "read-only: Moving disks.",
        "registration: closed",
        "two-factor for every uploader: on",
    ]
    with transaction(session_factory(engine)) as db:
        assert flags.read(db) == flags.Flags("Moving disks.", False, True)
    code, out = run(engine, tmp_path, "site", "read-only", "off")
    assert code == 0 and "is now off" in out
    code, out = run(engine, tmp_path, "site", "read-only", "maybe")
    assert code != 0
    assert _actions(engine) == [
        "site read-only on",
        "site registration closed",
        "site require two-factor on",
        "site read-only off",
    ]


def test_prohibited_names(engine: sa.Engine, tmp_path: Path) -> None:
    code, out = run(engine, tmp_path, "site", "prohibit", "Some_Name", "--reason", "ours")
    assert code == 0
    code, out = run(engine, tmp_path, "site", "prohibit", "some-name", "--reason", "again")
    assert code == 1 and "already prohibited" in out
    code, out = run(engine, tmp_path, "site", "prohibited")
    assert out == "Some_Name: ours\n"
    code, out = run(engine, tmp_path, "site", "allow", "some.name")
    assert code == 0
    code, out = run(engine, tmp_path, "site", "allow", "some.name")
    assert code == 1 and "not prohibited" in out


def test_user_commands(engine: sa.Engine, tmp_path: Path) -> None:
    assert run(engine, tmp_path, "user", "deactivate", "ADA@example.com")[0] == 0
    assert run(engine, tmp_path, "user", "reset-2fa", "ada@example.com")[0] == 0
    assert run(engine, tmp_path, "user", "admin", "ada@example.com", "on")[0] == 0
    with transaction(session_factory(engine)) as db:
        ada = db.scalars(sa.select(User).where(User.email == "ada@example.com")).one()
        assert (ada.is_active, ada.totp_secret, ada.is_admin) == (False, None, True)
    code, out = run(engine, tmp_path, "user", "remove", "owner@example.com", "--yes")
    assert code == 1 and "only owner of demo" in out
    code, out = run(engine, tmp_path, "user", "remove", "ada@example.com", "--yes")
    assert code == 0 and "1 API token(s)" in out
    code, out = run(engine, tmp_path, "user", "deactivate", "nobody@example.com")
    assert code == 1 and "no account" in out
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_project_commands(engine: sa.Engine, tmp_path: Path) -> None:
    code, out = run(engine, tmp_path, "project", "status", "demo", "quarantined", "--reason", "x")
    assert code == 0 and "demo is now quarantined" in out
    code, out = run(engine, tmp_path, "project", "transfer", "demo", "ada@example.com")
    assert code == 0 and "before: owner@example.com" in out
    with transaction(session_factory(engine)) as db:
        package = db.get(Package, "demo")
        assert package is not None and package.status is ProjectStatus.QUARANTINED
        owners = db.scalars(sa.select(Maintainer.user_id).where(Maintainer.role == Role.OWNER))
        ada = db.scalars(sa.select(User).where(User.email == "ada@example.com")).one()
        assert list(owners) == [ada.id]
    code, out = run(engine, tmp_path, "project", "delete", "demo", "--yes")
    assert code == 0 and "deleted demo" in out
    code, out = run(engine, tmp_path, "project", "delete", "demo", "--yes")
    assert code == 1 and "no project" in out
    assert _actions(engine)[-3:] == [
        "project status changed",
        "ownership transferred",
        "project removed",
    ]
