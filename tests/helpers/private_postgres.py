"""A PostgreSQL cluster of the test's own, to stop and start at will.

The suite's PostgreSQL is the machine's shared server, which other tests (and other
people) use meanwhile: never restart that one. This one lives in a temporary folder, on a
port of its own, and is removed when the block ends. Run as root, the PostgreSQL commands
run as the ``postgres`` user, which initdb requires.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.live_server import free_port

SERVER_USER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    data_dir: Path
    port: int
    as_user: Sequence[str]  # the command prefix that runs as the cluster's owner

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} "
            # No fsync: a stop, even "immediate", kills the server, not the machine, so the
            # operating system still writes every committed page. synchronous_commit stays
            # on: without it an immediate stop would lose commits already acknowledged.
            "-c fsync=off"
        )
        log = self.data_dir / "server.log"
        self.pg_ctl("start", "-w", "-t", "60", "-o", options, "-l", str(log))

    def stop(self, mode: str) -> None:
        """``fast``: clients are disconnected; ``immediate``: the server dies, as in a crash."""
        self.pg_ctl("stop", "-w", "-t", "60", "-m", mode)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    bin_dir = binaries()
    assert bin_dir is not None
    as_user: list[str] = []
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="wheelyard-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", SERVER_USER, "--"]
    data_dir = root / "data"
    cluster = Cluster(bin_dir, data_dir, free_port(), as_user)
    try:
        subprocess.run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(
                [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "stop", "-m", "immediate"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
