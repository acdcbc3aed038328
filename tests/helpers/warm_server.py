"""``wheelyard serve`` started warm, for tests that start and kill a server many times.

A cold start imports wheelyard twice (granian's leader, then its worker) and costs seconds
on a busy machine; a hundred of them would dominate a crash test. Here one helper process
imports wheelyard and granian once and forks a server from itself on request: each fork
runs the real ``wheelyard serve`` (migration check, granian leader, forked worker) in a
process group of its own, so ``kill -9`` of its process group takes the leader and its workers,
exactly as it would a server started from a shell.

Run as ``python -m tests.helpers.warm_server``: it reads one JSON request per line on stdin and
answers each with the new server's pid (which is also its process group id) on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.helpers.live_server import free_port

STARTUP_TIMEOUT = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class WarmServer:
    url: str
    pid: int  # the granian leader; also the id of the server's process group
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Forker:
    """The helper process: asks it for servers, kills them with their whole group."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def start(
        self, var_dir: Path, database_url: str, env: Mapping[str, str] | None = None
    ) -> WarmServer:
        """A server on ``database_url`` with one worker, answering when this returns."""
        var_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        request = {
            "port": port,
            "log": str(var_dir / "server.log"),
            "env": {
                **os.environ,
                "WHEELYARD_VAR_DIR": str(var_dir),
                "WHEELYARD_DATABASE_URL": database_url,
                "WHEELYARD_SECRET_KEY": "warm-server-test-key",
                # Tests upload in bulk; a test of the upload limits passes its own.
                "WHEELYARD_UPLOAD_FILES_PER_MINUTE": "0",
                "WHEELYARD_NEW_PROJECTS_PER_HOUR": "0",
                **(env or {}),
            },
        }
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError("the server forker exited")
        server = WarmServer(f"http://127.0.0.1:{port}", int(answer), Path(request["log"]))
        wait_until_up(server)
        return server

    def close(self) -> None:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)
        self._process.stdout.close()


@contextmanager
def forker() -> Iterator[Forker]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.warm_server"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    helper = Forker(process)
    try:
        yield helper
    finally:
        helper.close()


def live_members(group: int) -> list[int]:
    """The processes of a process group that still run (zombies have stopped)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            members.append(int(entry.name))
    return members


def kill_hard(server: WarmServer, timeout: float = 10.0) -> None:
    """``kill -9`` the server's process group; returns once no process of it runs."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while live_members(server.pid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of group {server.pid} outlived SIGKILL")
        time.sleep(0.01)


def wait_until_up(server: WarmServer) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not live_members(server.pid):
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/robots.txt", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if that page is missing
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server did not start in {STARTUP_TIMEOUT}s:\n{server.log()}")


# --- the helper process -----------------------------------------------------------------------


def _serve_forked(request: Mapping[str, object]) -> None:
    """In the forked child: lead a process group of its own and run ``wheelyard serve``."""
    os.setpgid(0, 0)  # the parent does the same: whichever runs first, it is done in time
    # The helper ignores SIGCHLD to have its children reaped; granian must wait for its own.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    from wheelyard.cli import main

    args: Sequence[str] = ["serve", "--port", str(request["port"]), "--workers", "1"]
    try:
        main(list(args), prog_name="wheelyard")
    finally:
        os._exit(1)


def _helper(requests: IO[str], answers: IO[str]) -> None:
    # Imported once, here, so that every forked server starts with them loaded.
    import granian
    import granian.server  # noqa: F401

    import wheelyard.asgi
    import wheelyard.cli
    import wheelyard.services.ops.schema  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # no zombies of killed servers
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _serve_forked(request)
        # Before the pid is handed out, so that killing its group never misses the server.
        os.setpgid(pid, pid)
        answers.write(f"{pid}\n")
        answers.flush()


if __name__ == "__main__":
    _helper(sys.stdin, sys.stdout)
