"""Shared fixtures: a migrated database, a rolled-back transaction per test, app and client.

The suite runs on SQLite by default; with WHEELYARD_TEST_POSTGRES_URL set, every database
fixture uses that PostgreSQL database instead (.ci/run runs the suite both ways).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers import factories
from tests.helpers.clock import WallClock
from tests.helpers.live_server import LiveServer, run_server
from wheelyard.app import create_app
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine
from wheelyard.services import clock
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.ops import schema

# The moto server fixtures, for every test that needs object storage.
pytest_plugins = ["tests.helpers.s3_server"]

POSTGRES_URL_VARIABLE = "WHEELYARD_TEST_POSTGRES_URL"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Cheap argon2 parameters: the tests check behaviour, not hashing cost.
TEST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024}


def reset_postgres_schema(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    postgres = os.environ.get(POSTGRES_URL_VARIABLE)
    if postgres:
        return postgres
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


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
    return Passwords(TEST_ARGON2["argon2_time_cost"], TEST_ARGON2["argon2_memory_cost"])


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_path=tmp_path / "files",
        secret_key="test-secret-key",
        **TEST_ARGON2,
    )


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    app = create_app(settings)
    app.state.sessions = sessions
    # Every session in a test shares one connection: the recorder's thread must not write
    # while a request runs. Tests flush it explicitly (app.state.downloads.flush()).
    app.state.downloads.interval = 3600
    return app


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def make(db: Session, passwords: Passwords) -> factories.Factory:
    return factories.Factory(db, passwords)


@pytest.fixture
def frozen_clock() -> Iterator[WallClock]:
    """The services' wall clock, stopped at the real time until the test moves it."""
    wall = WallClock(clock.system_time())
    previous = clock.set_source(wall)
    yield wall
    clock.set_source(previous)


@pytest.fixture
def top100_dir() -> Path:
    directory = SHARED_DATA / "pypi-top-100"
    if not directory.is_dir():
        pytest.skip(f"the real-world dataset is not present at {directory}")
    return directory


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server process on a free loopback port, with a database of its own."""
    var_dir = tmp_path_factory.mktemp("live")
    with run_server(var_dir, os.environ.get(POSTGRES_URL_VARIABLE)) as server:
        yield server
