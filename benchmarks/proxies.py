"""The pull-through caches under test, and the index they all sit in front of.

- ``Upstream``: a plain wheelyard holding the real dists and the large generated wheels; it
  writes a ``downloads`` row for every file it serves, which is how the run counts the
  fetches each proxy made.
- ``WheelyardProxy``: a second wheelyard with ``WHEELYARD_UPSTREAM_URL`` set to it.
- ``DevpiMirror``: devpi-server with an index of type ``mirror`` whose ``mirror_url`` is the
  upstream's ``/simple/`` (no ``root/pypi``: nothing may be asked of pypi.org).
- ``Proxpi``: proxpi under gunicorn with its image's own settings (2 threads), its index
  URL the upstream, its file cache in the run's folder.

Each proxy has ``fresh()``: stop, and start again on an empty cache (a new var dir, server
dir or cache dir), which is how the cold measurements begin.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from benchmarks import net
from benchmarks.peers import Devpi, Process, Server, VenvSpec, Wheelyard

PROXPI_VENV = VenvSpec("proxpi", ("proxpi==1.3.*", "gunicorn==27.*"))


class Upstream(Wheelyard):
    """The index every proxy pulls from: a wheelyard with the files imported."""

    name = "upstream"

    def served(self, filename: str) -> int:
        """How many times this index has served ``filename`` (rows flushed so far)."""
        query = (
            "SELECT count(*) FROM downloads JOIN release_files "
            "ON downloads.file_id = release_files.id WHERE release_files.filename = ?"
        )
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            row = db.execute(query, (filename,)).fetchone()
        return int(row[0])


class WheelyardProxy(Wheelyard):
    """``wheelyard serve`` with its defaults and ``WHEELYARD_UPSTREAM_URL`` set."""

    name = "wheelyard"

    def __init__(self, root: Path, port: int, upstream_url: str) -> None:
        super().__init__(root, port)
        self.upstream_url = upstream_url
        self.generation = 0
        self.extra_env = {"WHEELYARD_UPSTREAM_URL": upstream_url}

    def fresh(self) -> None:
        """Start again on a new var dir: no page, file or row cached (serve builds the
        schema itself)."""
        self.stop()
        self.generation += 1
        self.var = self.root / f"var-{self.generation}"
        self.start()


class DevpiMirror(Devpi):
    """devpi-server 6 with one index of type mirror, pulling from the upstream."""

    index = "upstream"

    def __init__(self, root: Path, port: int, venv: Path, upstream_url: str) -> None:
        super().__init__(root, port, venv)
        self.upstream_url = upstream_url
        self.generation = 0
        self.serverdir = root / "server-0"

    def prepare(self) -> None:
        """The user and its mirror index; devpi's JSON API, as peers.Devpi talks to it."""
        self._json("PUT", f"{self.base_url}/{self.user}", {"password": self.password}, auth=False)
        config = {"type": "mirror", "mirror_url": self.upstream_url}
        self._json("PUT", f"{self.base_url}/{self.user}/{self.index}", config, auth=True)

    def mirror_config(self) -> dict[str, object]:
        """The index's configuration as devpi reports it (to check the mirror_url took)."""
        reply = net.get(self.index_path, {"Accept": "application/json"})
        if reply.status != 200:
            raise RuntimeError(f"devpi GET {self.index_path}: {reply.status}")
        result: dict[str, object] = json.loads(reply.body)["result"]
        return result

    def fresh(self) -> None:
        """Start again on a new server dir (devpi-init runs again): nothing cached."""
        self.stop()
        self.generation += 1
        self.serverdir = self.root / f"server-{self.generation}"
        self.start()
        self.prepare()


class Proxpi(Server):
    """proxpi under gunicorn, as its own container image runs it (2 threads, 1 process:
    its caches are per process)."""

    name = "proxpi"

    def __init__(self, root: Path, port: int, venv: Path, upstream_url: str) -> None:
        super().__init__(root, port)
        self.venv = venv
        self.upstream_url = upstream_url
        self.generation = 0

    @property
    def cache_dir(self) -> Path:
        return self.root / f"cache-{self.generation}"

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/index/"

    @property
    def ready_url(self) -> str:
        return f"{self.base_url}/"

    def command(self) -> Process:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PROXPI_INDEX_URL": self.upstream_url,
            "PROXPI_CACHE_DIR": str(self.cache_dir),
        }
        argv = [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}"]
        # Without --no-control-socket gunicorn 27 leaves a socket under ~/.gunicorn.
        argv += ["--threads", "2", "--no-control-socket", "proxpi.server:app"]
        return Process(argv, self.root / "gunicorn.log", env=env, cwd=self.root)

    def fresh(self) -> None:
        """Start again on a new cache dir; its page cache is in memory, so gone too."""
        self.stop()
        self.generation += 1
        self.start()
