"""A real wheelyard server on a free loopback port, for tests that drive real clients.

``run_server`` gives each server a database of its own: a fresh SQLite file, or, when the
suite runs on PostgreSQL, a fresh database created beside the test database and dropped
afterwards. ``launched`` starts one on a database it is given, so that several servers can
share one, as the nodes of one index do.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.helpers.tls import Certificates

STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    var_dir: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    # Served over HTTPS with a certificate this CA signed (tests/helpers/tls.py).
    ca_file: Path | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wheelyard_cli(server: LiveServer, *args: str) -> str:
    """Run ``wheelyard ARGS`` on the server's database and settings, as its operator would;
    its standard output (a created token is the last line)."""
    result = subprocess.run(
        [sys.executable, "-m", "wheelyard", *args],
        env=dict(server.env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


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
    var_dir: Path,
    postgres_url: str | None = None,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    tls: Certificates | None = None,
) -> Iterator[LiveServer]:
    """A server on a database of its own, up and answering, stopped when the block ends;
    with ``tls``, on HTTPS (``serve --certfile --keyfile``)."""
    with (
        scratch_database(postgres_url, var_dir) as database_url,
        launched(var_dir, database_url, env, args, tls) as server,
    ):
        wait_until_up(server)
        yield server


@contextmanager
def launched(
    var_dir: Path,
    database_url: str,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    tls: Certificates | None = None,
) -> Iterator[LiveServer]:
    """``wheelyard serve`` started on ``database_url``, perhaps not answering yet.

    Several servers may share one database (nodes of one index); each keeps its log and
    secret in ``var_dir``. ``args`` go to ``serve`` (``--workers 2``).
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server_env = {
        **os.environ,
        "WHEELYARD_VAR_DIR": str(var_dir),
        "WHEELYARD_DATABASE_URL": database_url,
        "WHEELYARD_SECRET_KEY": "live-server-test-key",
        # Tests upload in bulk; a test of the upload limits passes its own through env.
        "WHEELYARD_UPLOAD_FILES_PER_MINUTE": "0",
        "WHEELYARD_NEW_PROJECTS_PER_HOUR": "0",
        **(env or {}),
    }
    log_path = var_dir / "server.log"
    if tls is not None:
        args = [*args, "--certfile", str(tls.certfile), "--keyfile", str(tls.keyfile)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "wheelyard", "serve", "--port", str(port), *args],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A group of its own: stopping it reaches granian's workers too, and a Ctrl-C
            # meant for pytest does not kill the server before the test can stop it.
            start_new_session=True,
        )
    server = LiveServer(
        url=f"{'http' if tls is None else 'https'}://127.0.0.1:{port}",
        database_url=database_url,
        var_dir=var_dir,
        env=server_env,
        process=process,
        log_path=log_path,
        ca_file=tls.ca_file if tls is not None else None,
    )
    try:
        yield server
    finally:
        stop(server)


def stop(server: LiveServer) -> None:
    """SIGINT to the server's process group, as a terminal's Ctrl-C; SIGKILL if it hangs."""
    if server.process.poll() is not None:
        return
    # Until wait() reaps it, the leader's pid (the group's id) cannot name anyone else.
    os.killpg(server.process.pid, signal.SIGINT)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    context = None if server.ca_file is None else ssl.create_default_context(cafile=server.ca_file)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/robots.txt", timeout=2, context=context):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if that page is missing
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in {STARTUP_TIMEOUT}s:\n{server.log()}")
