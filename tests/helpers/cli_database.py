"""A migrated scratch database the command-line tests run ``wheelyard`` against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.environment import postgres_url
from tests.helpers.live_server import scratch_database
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services.ops import schema


@contextmanager
def ada_and_bob(directory: Path) -> Iterator[str]:
    """The database's URL: Ada owns "adas-project", Bob owns nothing."""
    with scratch_database(postgres_url(), directory) as url:
        engine = create_engine(url)
        try:
            schema.upgrade(engine)
            with transaction(session_factory(engine)) as db:
                ada = User(name="Ada", email="ada@example.com")
                db.add_all([ada, User(name="Bob", email="bob@example.com")])
                package = Package(id="adas-project", name="Adas_Project")
                db.add(Maintainer(user=ada, package=package, role=Role.OWNER))
        finally:
            engine.dispose()
        yield url
