"""Shared fixtures: a migrated database, a rolled-back transaction per test, app and client,
and the accounts, projects and outside services that more than one test module uses.

A fixture two modules need is defined here, once. Shared code that is not a fixture lives
in tests/helpers, the only test code a test module may import (tests/unit/test_layout.py).

The suite runs on SQLite by default; with WHEELYARD_TEST_POSTGRES_URL set, every database
fixture uses that PostgreSQL database instead (.ci/run runs the suite both ways).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers import factories
from tests.helpers.accounts import log_in
from tests.helpers.apps import app_for
from tests.helpers.clock import Clock, WallClock
from tests.helpers.environment import SHARED_DATA, postgres_url
from tests.helpers.install_clients import new_venv
from tests.helpers.live_server import LiveServer, run_server, scratch_database
from tests.helpers.mail import Inbox, smtp_sink
from tests.helpers.passwords import TEST_ARGON2, cheap_passwords
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.clock import set_source, system_time
from wheelyard.services.ops import schema
from wheelyard.storage.base import FileStorage

# The moto server fixtures, for every test that needs object storage.
pytest_plugins = ["tests.helpers.s3_server"]


def reset_postgres_schema(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    postgres = postgres_url()
    if not postgres:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    elif os.environ.get("PYTEST_XDIST_WORKER"):
        # Under pytest-xdist each worker has a database of its own: two workers' rolled-back
        # transactions in one database would wait on each other's unique keys.
        with scratch_database(postgres, tmp_path_factory.mktemp("db")) as url:
            yield url
    else:
        yield postgres


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A database built by running the migrations, as production builds it."""
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        reset_postgres_schema(engine)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def sessions(connection: sa.Connection) -> sessionmaker[Session]:
    # Commits inside the code under test release a SAVEPOINT; the outer rollback undoes all.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    session = sessions()
    yield session
    session.close()


@pytest.fixture
def passwords() -> Passwords:
    return cheap_passwords()


@pytest.fixture
def allowed_hosts() -> tuple[str, ...]:
    """The Host names the test app answers: the one Starlette's TestClient sends. A test that
    asks with another Host parametrizes this fixture."""
    return ("testserver",)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, allowed_hosts: tuple[str, ...]) -> Settings:
    return Settings(
        database_url=database_url,
        storage_path=tmp_path / "files",
        secret_key="test-secret-key",
        allowed_hosts=allowed_hosts,
        # Tests upload in bulk; the tests of the upload limits turn them on.
        upload_files_per_minute=0,
        new_projects_per_hour=0,
        **TEST_ARGON2,
    )


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    return app_for(settings, sessions)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def storage(app: Starlette) -> FileStorage:
    """The app's file storage: what uploads write and downloads read."""
    storage: FileStorage = app.state.storage
    return storage


@pytest.fixture
def make(db: Session, passwords: Passwords) -> factories.Factory:
    return factories.Factory(db, passwords)


@pytest.fixture
def owner(make: factories.Factory) -> User:
    """Olive Owner, owner@example.com: the account that owns ``package``."""
    return make.user(name="Olive Owner", email="owner@example.com")


@pytest.fixture
def package(make: factories.Factory, owner: User) -> Package:
    """The "demo" project, releases 1.0 and 2.0, owned by ``owner``."""
    return make.package("demo", versions=("1.0", "2.0"), owner=owner)


@pytest.fixture
def as_owner(client: TestClient, owner: User, package: Package) -> TestClient:
    """``client`` logged in as ``owner``, who may manage ``package``."""
    assert log_in(client, "owner@example.com").status_code == 303
    return client


@pytest.fixture
def ada(make: factories.Factory) -> User:
    """Ada Lovelace's account, ada@example.com with the usual PASSWORD; not logged in."""
    return make.user(name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def logged_in_ada(client: TestClient, ada: User) -> User:
    """Ada, logged in on ``client`` as the test starts."""
    assert log_in(client, ada.email).status_code == 303
    return ada


@pytest.fixture
def inbox(app: Starlette) -> Iterator[Inbox]:
    """The app sending its email to an SMTP server of the test's own; what it received."""
    with smtp_sink() as (inbox, port):
        app.state.settings = dataclasses.replace(
            app.state.settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="index@example.com",
            # Reset links are built only from the public URL: the test client's address.
            public_url="http://testserver",
        )
        yield inbox


@pytest.fixture
def frozen_clock() -> Iterator[WallClock]:
    """The services' wall clock, stopped at the real time until the test moves it."""
    wall = WallClock(system_time())
    previous = set_source(wall)
    yield wall
    set_source(previous)


@pytest.fixture
def top100_dir() -> Path:
    directory = SHARED_DATA / "pypi-top-100"
    if not directory.is_dir():
        pytest.skip(f"the real-world dataset is not present at {directory}")
    return directory


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """The URL of a new database of the test's own, with nothing in it, not even tables."""
    with scratch_database(postgres_url(), tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand, for code that takes ``clock=``."""
    return Clock()


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh, empty virtual environment for pip, uv or twine to install into."""
    return new_venv(tmp_path / "venv")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server process on a free loopback port, with a database of its own."""
    var_dir = tmp_path_factory.mktemp("live")
    with run_server(var_dir, postgres_url()) as server:
        yield server
