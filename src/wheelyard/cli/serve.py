"""``wheelyard serve``: the index on granian."""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa

from wheelyard.cli.base import upgrade_database
from wheelyard.config import Settings
from wheelyard.data.db_session import create_engine

AUTO = "auto"
PRIVATE_UMASK = 0o077
# Any number every node agrees on: PostgreSQL's advisory lock key for migrating at start-up.
MIGRATION_LOCK_KEY = 0x77_68_6C_79


def available_cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    """``--workers``: a number of worker processes, or ``auto`` for one per core."""
    text = value.strip().lower()
    if text == AUTO:
        return available_cores()
    try:
        count = int(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number nor {AUTO!r}") from None
    if count < 1:
        raise click.BadParameter(f"use 1 or more workers, or {AUTO!r}, not {count}")
    return count


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    # Every core by default: each worker serves cached pages on its own, and a change made
    # through one reaches the others at once (services.index.page_cache.ChangeSignal).
    default=AUTO,
    show_default=True,
    metavar="N|auto",
    callback=worker_count,
    help=f"Worker processes; {AUTO!r} starts one per core.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this PEM certificate (chain); needs --keyfile.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The PEM private key of --certfile.",
)
@click.pass_obj
def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    certfile: Path | None,
    keyfile: Path | None,
) -> None:
    """Run the index, creating and migrating the database first.

    With --certfile and --keyfile it speaks HTTPS itself (granian's TLS), so it needs no
    proxy in front; trusted publishing clients insist on https.
    """
    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--certfile and --keyfile go together: give both or neither.")
    from granian import Granian
    from granian.constants import Interfaces

    # The database holds two-factor secrets and password hashes; nothing the server makes
    # (database, -wal and -shm, files, secret key) is for other local users. The workers
    # granian starts inherit the mask.
    os.umask(PRIVATE_UMASK)
    refuse_a_taken_port(host, port)
    with migrating_alone(settings.database_url):
        upgrade_database(settings)
    settings.storage_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if settings.var_dir is not None:
        settings.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(settings)
    scheme = "http" if certfile is None else "https"
    click.echo(f"wheelyard serving on {scheme}://{host}:{port}/ with {workers} worker(s)")
    Granian(
        "wheelyard.asgi:app_from_env",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
        ssl_cert=certfile,
        ssl_key=keyfile,
    ).serve()


def refuse_a_taken_port(host: str, port: int) -> None:
    """One clear line, before anything starts, when another process listens on the port.

    granian binds with ``SO_REUSEPORT``, so a second server on a taken port would otherwise
    start silently and share the port with whatever holds it, and a port held without that
    option would end in a long traceback after "serving on". A trial bind without
    ``SO_REUSEPORT`` fails in both cases; ``SO_REUSEADDR`` lets it ignore connections a
    stopped server left in TIME_WAIT.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise click.ClickException(f"cannot serve on {host}: {error.strerror}") from None
    family, kind, protocol, _name, address = infos[0]
    with socket.socket(family, kind, protocol) as trial:
        trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            trial.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use by another process;"
                    " stop it or choose another port with --port"
                ) from None
            raise click.ClickException(f"cannot serve on {host}:{port}: {error.strerror}") from None


def make_private(settings: Settings) -> None:
    """Closes what an older version left readable to every local user: the var directory
    (700) and an SQLite database with its -wal and -shm files (600)."""
    if settings.var_dir is not None and settings.var_dir.is_dir():
        settings.var_dir.chmod(0o700)
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    database = Path(str(url.database))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            path.chmod(0o600)


@contextmanager
def migrating_alone(database_url: str) -> Iterator[None]:
    """Nodes that start together on one database migrate it in turn.

    Two upgrades of the same schema at once fail (PostgreSQL: duplicate objects; SQLite:
    "database is locked"), and the node that loses exits. One that waits for the other
    finds the schema at head and has nothing left to do.
    """
    url = sa.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        engine = create_engine(database_url)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                # A session lock, so it outlives the transactions the upgrade commits on its
                # own connection; closing this connection would release it, too.
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
                try:
                    yield
                finally:
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
        finally:
            engine.dispose()
    elif (
        backend == "sqlite"
        and url.database not in (None, "", ":memory:")
        and sys.platform != "win32"
    ):
        import fcntl

        # The database's directory, not its file: on BSDs flock and SQLite's own fcntl locks
        # on one file interfere, and a lock file of its own would be left lying beside it.
        directory = Path(str(url.database)).resolve().parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock
    else:
        yield
