"""The servers under test: wheelyard, pypiserver, devpi-server and nginx.

Each runs in its own process group on a loopback port, with its state under the run's work
directory, and ``stop()`` ends the whole group (gunicorn's, granian's and nginx's workers
too). The peers come from PyPI into their own virtualenvs under ``benchmarks/.venvs/``,
created on first use and reused while their requirements stay the same. The tests that drive
peers (tests/helpers/peers.py) use the same virtualenvs; ``WHEELYARD_PEER_VENVS`` puts them
elsewhere, so that they outlive a clone (CI keeps them in the user's cache).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import net

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENVS = Path(os.environ.get("WHEELYARD_PEER_VENVS") or HERE / ".venvs")


@dataclass(frozen=True)
class VenvSpec:
    name: str
    requirements: tuple[str, ...]


# pypiserver's "cache" extra brings watchdog, which lets it keep its listing of the folder
# (and the files' digests) in memory instead of walking the folder on every request: the
# peer at its best.
PYPISERVER_VENV = VenvSpec("pypiserver", ("pypiserver[cache]==2.4.*", "gunicorn==27.*"))
DEVPI_VENV = VenvSpec("devpi", ("devpi-server==6.*",))


def ensure_venv(spec: VenvSpec) -> Path:
    """The peer's virtualenv, (re)built when missing or made for other requirements.

    Under a lock: test processes running side by side may both ask for it first."""
    VENVS.mkdir(parents=True, exist_ok=True)
    with (VENVS / f"{spec.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_venv(spec)


def _ensure_venv(spec: VenvSpec) -> Path:
    venv = VENVS / spec.name
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(spec.requirements) + "\n"
    if (venv / "bin" / "python").exists() and stamp.is_file() and stamp.read_text() == wanted:
        return venv
    print(f"installing {' '.join(spec.requirements)} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *spec.requirements], check=True)
    stamp.write_text(wanted)
    return venv


def installed_version(venv: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def password() -> str:
    """A throwaway secret per run: the servers only ever listen on loopback."""
    return secrets.token_urlsafe(16)


class Process:
    """A server process in its own session, so that stopping it reaches all its workers."""

    def __init__(
        self,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self.popen

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the group (servers flush and exit), SIGKILL for what is left."""
        popen, self.popen = self.popen, None
        if popen is None:
            return
        group = popen.pid  # start_new_session made the child its group's leader
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            try:
                popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; give its workers a moment, then make sure of them.
            if _group_alive(group, deadline=time.monotonic() + wait):
                continue
            break
        if popen.poll() is None:
            popen.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _group_alive(group: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


@dataclass(frozen=True)
class Probe:
    """One URL (and Accept header) that wrk drives."""

    url: str
    headers: Mapping[str, str]


HTML = {"Accept": "text/html"}
SIMPLE_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


class Server:
    """What the driver needs of every server; the subclasses say where things are."""

    name = ""
    start_timeout = 60.0

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.process: Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/simple/"

    @property
    def ready_url(self) -> str:
        return self.index_url

    def simple_url(self, project: str) -> str:
        return f"{self.index_url}{project}/"

    def json_api(self, project: str) -> Probe:
        raise NotImplementedError

    def command(self) -> Process:
        raise NotImplementedError

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it to answer."""
        self.process = self.command()
        self.process.start()

    def wait_ready(self) -> None:
        process = self.process
        if process is None or process.popen is None:
            raise RuntimeError(f"{self.name} was not launched")
        try:
            net.wait_for(self.ready_url, process.popen, self.start_timeout, self.name)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n--- {self.name} log ---\n{process.log_tail()}") from None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def download_url(self, project: str, filename: str) -> str:
        page = self.simple_url(project)
        reply = net.get(page, HTML)
        if reply.status != 200:
            raise RuntimeError(f"{page} answered {reply.status}")
        return net.link_to(page, reply.body.decode(), filename)

    def probes(self, project: str, filename: str) -> dict[str, Probe]:
        simple = self.simple_url(project)
        return {
            "simple_html": Probe(simple, HTML),
            "simple_json": Probe(simple, SIMPLE_JSON),
            "download": Probe(self.download_url(project, filename), {}),
            "json_api": self.json_api(project),
        }


class Wheelyard(Server):
    """``wheelyard serve`` with its defaults, on SQLite and local files under ``root``."""

    name = "wheelyard"
    email = "bench@example.com"

    def __init__(self, root: Path, port: int) -> None:
        super().__init__(root, port)
        self.var = root / "var"
        self.extra_env: dict[str, str] = {}
        self.token = ""

    @property
    def database(self) -> Path:
        return self.var / "wheelyard.db"

    @property
    def upload_url(self) -> str:
        return f"{self.base_url}/legacy/"

    def json_api(self, project: str) -> Probe:
        return Probe(f"{self.base_url}/pypi/{project}/json", {})

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "WHEELYARD_VAR_DIR": str(self.var),
            "WHEELYARD_DATABASE_URL": f"sqlite:///{self.database}",
            # The runs upload whole datasets at once: no per-account upload limits.
            "WHEELYARD_UPLOAD_FILES_PER_MINUTE": "0",
            "WHEELYARD_NEW_PROJECTS_PER_HOUR": "0",
            **self.extra_env,
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(REPO / ".venv" / "bin" / "wheelyard"), *args],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wheelyard {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def prepare(self) -> None:
        """A fresh database, an account and an API token for the twine uploads."""
        self.var.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")
        self.cli(
            "user", "create", "--name", "bench", "--email", self.email, "--password", password()
        )
        self.token = self.cli("token", "create", "--email", self.email).strip().splitlines()[-1]

    def command(self) -> Process:
        argv = [str(REPO / ".venv" / "bin" / "wheelyard"), "serve"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        return Process(argv, self.root / "serve.log", env=self.env(), cwd=self.root)

    def restart(self, **env: str) -> None:
        self.stop()
        self.extra_env = dict(env)
        self.start()

    def count(self, table: str) -> int:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            row = db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - our own names
        return int(row[0])


class Pypiserver(Server):
    """pypiserver 2.4 under gunicorn (its own default: one sync worker) serving a folder."""

    name = "pypiserver"

    def __init__(self, root: Path, port: int, venv: Path, workers: int) -> None:
        super().__init__(root, port)
        self.venv = venv
        self.workers = workers
        self.packages = root / "packages"

    @property
    def upload_url(self) -> str:
        return f"{self.base_url}/"

    def json_api(self, project: str) -> Probe:
        return Probe(f"{self.base_url}/{project}/json", {})

    def command(self) -> Process:
        self.packages.mkdir(parents=True, exist_ok=True)
        # No fallback: a missing project must 404, not redirect pip to pypi.org. No
        # authentication, so twine can upload without an htpasswd file.
        app = (
            f"pypiserver:app(root={str(self.packages)!r}, disable_fallback=True, "
            "password_file='.', authenticate=[])"
        )
        argv = [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}"]
        # Without --no-control-socket gunicorn 27 leaves a socket under ~/.gunicorn.
        argv += ["--workers", str(self.workers), "--no-control-socket", app]
        return Process(argv, self.root / "gunicorn.log", cwd=self.root)

    def add_files(self, paths: list[Path]) -> None:
        for path in paths:
            shutil.copyfile(path, self.packages / path.name)


class Devpi(Server):
    """devpi-server 6 with its defaults; one user and one index that mirrors nothing."""

    name = "devpi"
    start_timeout = 300.0  # it sets up its storage first, slowly on a busy machine
    user = "bench"
    index = "prod"

    def __init__(self, root: Path, port: int, venv: Path) -> None:
        super().__init__(root, port)
        self.venv = venv
        self.serverdir = root / "server"
        self.password = password()
        self.token = ""

    @property
    def index_path(self) -> str:
        return f"{self.base_url}/{self.user}/{self.index}"

    @property
    def index_url(self) -> str:
        return f"{self.index_path}/+simple/"

    @property
    def ready_url(self) -> str:
        return f"{self.base_url}/+api"

    @property
    def upload_url(self) -> str:
        return f"{self.index_path}/"

    def json_api(self, project: str) -> Probe:
        return Probe(f"{self.index_path}/{project}", {"Accept": "application/json"})

    def command(self) -> Process:
        if not self.serverdir.exists():
            subprocess.run(
                [
                    str(self.venv / "bin" / "devpi-init"),
                    "--serverdir",
                    str(self.serverdir),
                    "--no-root-pypi",
                    "--root-passwd",
                    password(),
                ],
                check=True,
                capture_output=True,
            )
        argv = [str(self.venv / "bin" / "devpi-server"), "--serverdir", str(self.serverdir)]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        return Process(argv, self.root / "devpi.log", cwd=self.root)

    def prepare(self) -> None:
        """The user, its index (no bases: nothing may come from pypi.org), a login token."""
        self._json("PUT", f"{self.base_url}/{self.user}", {"password": self.password}, auth=False)
        self.create_index(self.index)
        login = {"user": self.user, "password": self.password}
        reply = self._json("POST", f"{self.base_url}/+login", login, auth=False)
        self.token = str(reply["result"]["password"])

    def create_index(self, name: str) -> str:
        """Another index of the user; returns its upload URL."""
        url = f"{self.base_url}/{self.user}/{name}"
        self._json("PUT", url, {"bases": []}, auth=True)
        return f"{url}/"

    def token_headers(self) -> dict[str, str]:
        """How devpi's own client authenticates once logged in: the token, not the password.

        devpi checks a password with argon2 on every request that carries one, a deliberate
        cost per upload; its login token is only an HMAC check.
        """
        return {"X-Devpi-Auth": net.basic_auth(self.user, self.token).removeprefix("Basic ")}

    def _json(self, method: str, url: str, body: object, *, auth: bool) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = net.basic_auth(self.user, self.password)
        reply = net.request(method, url, headers=headers, body=json.dumps(body).encode())
        if reply.status not in (200, 201):
            raise RuntimeError(f"devpi {method} {url}: {reply.status} {reply.body[:300]!r}")
        parsed: dict[str, Any] = json.loads(reply.body)
        return parsed


class Nginx(Server):
    """nginx serving byte-for-byte copies of wheelyard's answers as static files."""

    name = "nginx"

    def __init__(self, root: Path, port: int) -> None:
        super().__init__(root, port)
        self.docroot = root / "docroot"
        self.filename = ""

    def store_copies(self, project: str, copies: Mapping[str, bytes], filename: str) -> None:
        """Write the copies: keys are the probe names of ``Server.probes``."""
        self.filename = filename
        layout = {
            "simple_html": f"simple/{project}/index.html",
            "simple_json": f"simple-json/{project}/index.json",
            "json_api": f"pypi/{project}/json",
            "download": f"packages/{filename}",
        }
        for key, relative in layout.items():
            path = self.docroot / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(copies[key])

    def probes(self, project: str, filename: str) -> dict[str, Probe]:
        return {
            "simple_html": Probe(f"{self.base_url}/simple/{project}/", HTML),
            "simple_json": Probe(f"{self.base_url}/simple-json/{project}/", SIMPLE_JSON),
            "download": Probe(f"{self.base_url}/packages/{filename}", {}),
            "json_api": Probe(f"{self.base_url}/pypi/{project}/json", {}),
        }

    @property
    def ready_url(self) -> str:
        return f"{self.base_url}/packages/{self.filename}"

    def command(self) -> Process:
        conf = self.root / "nginx.conf"
        conf.write_text(_nginx_conf(self.root, self.docroot, self.port))
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [binary, "-p", f"{self.root}/", "-c", str(conf), "-e", str(self.root / "error.log")]
        return Process(argv, self.root / "nginx.log", cwd=self.root)


def _nginx_conf(root: Path, docroot: Path, port: int) -> str:
    # Debian's stock settings where it matters (one worker per core, sendfile), no access
    # log (none of the Python servers writes one by default), and every path kept inside
    # the run's folder so the system's nginx set-up is neither needed nor touched.
    return f"""
daemon off;
worker_processes auto;
pid {root}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {root}/spool-body;
    proxy_temp_path {root}/spool-proxy;
    fastcgi_temp_path {root}/spool-fastcgi;
    uwsgi_temp_path {root}/spool-uwsgi;
    scgi_temp_path {root}/spool-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {docroot};
        location /simple/ {{ index index.html; types {{ }} default_type text/html; }}
        location /simple-json/ {{
            index index.json;
            types {{ }}
            default_type application/vnd.pypi.simple.v1+json;
        }}
        location /pypi/ {{ types {{ }} default_type application/json; }}
        location /packages/ {{ types {{ }} default_type application/zip; }}
    }}
}}
"""
