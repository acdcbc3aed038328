"""A real wheelyard server on a free loopback port, for tests that drive real clients.

Each server gets a database of its own: a fresh SQLite file, or, when the suite runs on
PostgreSQL, a fresh database created beside the test database and dropped afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    var_dir: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def scratch_database(postgres_url: str | None, var_dir: Path) -> Iterator[str]:
    """A database URL nobody else uses, removed when the block ends."""
    if not postgres_url:
        yield f"sqlite:///{var_dir / 'wheelyard.db'}"
        return
    name = f"wheelyard_live_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def run_server(
    var_dir: Path, postgres_url: str | None = None, env: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    var_dir.mkdir(parents=True, exist_ok=True)
    with scratch_database(postgres_url, var_dir) as database_url:
        port = free_port()
        server_env = {
            **os.environ,
            "WHEELYARD_VAR_DIR": str(var_dir),
            "WHEELYARD_DATABASE_URL": database_url,
            "WHEELYARD_SECRET_KEY": "live-server-test-key",
            **(env or {}),
        }
        log_path = var_dir / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "wheelyard", "serve", "--port", str(port)],
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = LiveServer(
            url=f"http://127.0.0.1:{port}",
            database_url=database_url,
            var_dir=var_dir,
            env=server_env,
            process=process,
            log_path=log_path,
        )
        try:
            _wait_until_up(server)
            yield server
        finally:
            stop(server)


def stop(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/robots.txt", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if that page is missing
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in {STARTUP_TIMEOUT}s:\n{server.log()}")
