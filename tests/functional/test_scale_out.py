"""Scale-out: several nodes and several workers serving one index from one database and one bucket.

Every worker of every node keeps its own cache of simple and JSON pages, which the journal
keeps honest (services/page_cache.py). What the client that made a change reads next shows
it at once; every other worker and node shows it within PROPAGATION_LIMIT.

The servers are real ``wheelyard serve`` processes; the database is a shared SQLite file
(one machine), or a PostgreSQL database when the suite runs on one.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import click
import pytest
import requests
import sqlalchemy as sa

from tests.helpers.dists import Dist, Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.live_server import (
    LiveServer,
    launched,
    run_server,
    scratch_database,
    wait_until_up,
)
from tests.helpers.passwords import PASSWORD, cheap_passwords
from tests.helpers.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    MotoServer,
)
from tests.helpers.uploads import basic_auth
from wheelyard.cli.serve import serve
from wheelyard.data.api_token import ApiToken, TokenScope
from wheelyard.data.audit import AuditEvent
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.services import audit
from wheelyard.services.accounts import tokens, users
from wheelyard.services.ops import schema

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# The bar; the cache reads the journal about once a second, so this leaves room.
PROPAGATION_LIMIT = 2.0
# How long to keep looking past the limit, so that a failure says how late the page was.
GRACE = 3.0
POLL_INTERVAL = 0.05
PROJECT = "scale-out-demo"
EMAIL = "ada@example.com"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PAGES = {
    "simple html": ("/simple/{}/", {"Accept": "text/html"}),
    "simple json": ("/simple/{}/", {"Accept": SIMPLE_JSON}),
    "json api": ("/pypi/{}/json", {}),
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

FIRST = wheel(Project(PROJECT, "1.0"))
SECOND = wheel(Project(PROJECT, "2.0"))

# filename -> whether it is yanked, as one page lists the project's files.
Files = dict[str, bool]
# GET a path with headers from one server (one node, or one worker of it): the body.
Fetch = Callable[[str, Mapping[str, str]], bytes]


# --- reading what a server serves -------------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: Files = {}
        self._yanked: bool | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._yanked = any(name == "data-yanked" for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        if self._yanked is not None:
            self.files[data.strip()] = self._yanked

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._yanked = None


def served(fetch: Fetch) -> dict[str, Files]:
    """What each cached page of the project says about its files."""
    bodies = {page: fetch(path.format(PROJECT), headers) for page, (path, headers) in PAGES.items()}
    anchors = _Anchors()
    anchors.feed(bodies["simple html"].decode())
    releases = json.loads(bodies["json api"])["releases"]
    return {
        "simple html": anchors.files,
        "simple json": {
            file["filename"]: bool(file["yanked"])
            for file in json.loads(bodies["simple json"])["files"]
        },
        "json api": {
            file["filename"]: file["yanked"] for files in releases.values() for file in files
        },
    }


def everywhere(files: Files) -> dict[str, Files]:
    return dict.fromkeys(PAGES, files)


def over_new_connections(base_url: str) -> Fetch:
    """Each request on a connection of its own, so any worker of the node may take it."""

    def fetch(path: str, headers: Mapping[str, str]) -> bytes:
        response = requests.get(base_url + path, headers=dict(headers), timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.content

    return fetch


def wait_until_served(fetch: Fetch, files: Files, since: float) -> float:
    """Seconds from ``since`` until every page ``fetch`` reaches lists exactly ``files``."""
    while True:
        seen = served(fetch)
        elapsed = time.monotonic() - since
        if seen == everywhere(files):
            return elapsed
        if elapsed > PROPAGATION_LIMIT + GRACE:
            pytest.fail(f"after {elapsed:.1f} s still served {seen}, not {files}")
        time.sleep(POLL_INTERVAL)


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print past the capture: the measured delays belong in the test output."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n    {line}", end="")

    return say


def database_kind() -> str:
    return "postgresql" if postgres_url() else "sqlite"


# --- acting as Ada ----------------------------------------------------------------------------


def create_account(database_url: str, scope: TokenScope = TokenScope.UPLOAD) -> str:
    """Ada's account, straight into the database; the secret of an API token of hers."""
    engine = create_engine(database_url)
    try:
        with transaction(session_factory(engine)) as db:
            passwords = cheap_passwords()
            ada = users.create_user(
                db, passwords, name="Ada", email=EMAIL, password=PASSWORD, email_verified=True
            )
            _token, secret = tokens.create_token(db, ada, description="scale-out test", scope=scope)
    finally:
        engine.dispose()
    return secret


def token_ids(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    try:
        with transaction(session_factory(engine)) as db:
            return list(db.scalars(sa.select(ApiToken.id)))
    finally:
        engine.dispose()


def upload_request(base_url: str, token: str, dist: Dist) -> requests.PreparedRequest:
    """A wheel for the legacy API, as twine posts it."""
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": PROJECT,
        "version": dist.filename.split("-")[1],
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": dist.sha256,
    }
    return requests.Request(
        "POST",
        base_url + "/legacy/",
        data=fields,
        files={"content": (dist.filename, dist.content)},
        auth=("__token__", token),
    ).prepare()


def upload(base_url: str, token: str, dist: Dist) -> None:
    with requests.Session() as session:
        response = session.send(upload_request(base_url, token, dist), timeout=60)
    assert response.status_code == 200, response.text


class Owner:
    """Ada in a browser on one node: signed in, sending the forms of the manage page."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        fields = {"email": EMAIL, "password": PASSWORD, "next": "/account"}
        self._post("/account/login", "/account/login", fields)

    def revoke_token(self, token_id: int) -> None:
        self._post("/account/tokens", "/account/tokens/revoke", {"token_id": str(token_id)})

    def manage(self, action: str, **fields: str) -> None:
        page = f"/manage/project/{PROJECT}/"
        self._post(page, page + action, fields)

    def _post(self, form_page: str, path: str, fields: dict[str, str]) -> None:
        found = _CSRF.search(self.session.get(self.base_url + form_page, timeout=10).text)
        assert found, f"no CSRF field on {form_page}"
        response = self.session.post(
            self.base_url + path,
            data={"csrf_token": found.group(1), **fields},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 303, response.text[:500]


# --- two nodes --------------------------------------------------------------------------------


@pytest.fixture
def object_storage(moto_server: MotoServer, s3_bucket: str) -> dict[str, str]:
    """The environment that points a node at the shared bucket, as an operator sets it."""
    return {
        "WHEELYARD_STORAGE_URL": f"s3://{s3_bucket}/files",
        "AWS_ENDPOINT_URL_S3": moto_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": TEST_REGION,
    }


@pytest.fixture
def nodes(
    tmp_path: Path, object_storage: dict[str, str]
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on one database and one bucket, started together as a deployment starts them."""
    postgres = postgres_url()
    with scratch_database(postgres, tmp_path) as database_url, ExitStack() as running:
        # Both migrate the fresh database at start-up; they must take turns, not fail.
        a = running.enter_context(launched(tmp_path / "a", database_url, object_storage))
        b = running.enter_context(launched(tmp_path / "b", database_url, object_storage))
        wait_until_up(a)
        wait_until_up(b)
        yield a, b


def download_url(fetch: Fetch, base_url: str, filename: str) -> str:
    """Where the project's simple page on one node links ``filename``."""
    page = f"/simple/{PROJECT}/"
    # Another worker of the node may still be inside its 2 seconds: ask until one answers.
    deadline = time.monotonic() + 2.0
    while True:
        body = fetch(page, {"Accept": SIMPLE_JSON})
        files = json.loads(body)["files"]
        urls = [file["url"] for file in files if file["filename"] == filename]
        if urls or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(urls) == 1, urls
    return urljoin(base_url + page, str(urls[0]))


def keys_in(s3: S3Client, bucket: str) -> list[str]:
    return [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.mark.clients
def test_a_change_through_one_node_shows_on_the_other_within_2_seconds(
    nodes: tuple[LiveServer, LiveServer],
    s3: S3Client,
    s3_bucket: str,
    report: Callable[[str], None],
) -> None:
    a, b = nodes
    on_a, on_b = over_new_connections(a.url), over_new_connections(b.url)
    token = create_account(a.database_url)
    upload(a.url, token, FIRST)
    one = {FIRST.filename: False}
    # Both nodes render and cache every page before the changes.
    assert served(on_a) == everywhere(one)
    assert served(on_b) == everywhere(one)
    delays: dict[str, float] = {}

    upload(a.url, token, SECOND)
    done = time.monotonic()
    two = {FIRST.filename: False, SECOND.filename: False}
    assert served(on_a) == everywhere(two)  # the uploader sees it at once
    delays["upload"] = wait_until_served(on_b, two, done)

    # The bytes went to the bucket, not to a node's disk.
    assert any(key.endswith("/" + SECOND.filename) for key in keys_in(s3, s3_bucket))
    assert not [path for node in (a, b) for path in node.var_dir.rglob("*.whl")]
    second_url = download_url(on_b, b.url, SECOND.filename)

    ada = Owner(a.url)
    ada.manage("release/yank", version="2.0", reason="broken on Windows")
    done = time.monotonic()
    yanked = {FIRST.filename: False, SECOND.filename: True}
    assert served(on_a) == everywhere(yanked)
    delays["yank"] = wait_until_served(on_b, yanked, done)

    ada.manage("file/delete", filename=SECOND.filename, confirm=SECOND.filename)
    done = time.monotonic()
    assert served(on_a) == everywhere(one)
    delays["delete"] = wait_until_served(on_b, one, done)
    assert requests.get(second_url, timeout=10).status_code == 404
    assert not any(key.endswith("/" + SECOND.filename) for key in keys_in(s3, s3_bucket))

    # Downloads come last: B records each one in the background, and on SQLite such a commit
    # landing inside one of A's form posts still fails it (see the SQLite test below).
    downloaded = requests.get(download_url(on_b, b.url, FIRST.filename), timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content == FIRST.content

    report(
        f"two nodes on {database_kind()} + S3, seen on node B after: "
        + ", ".join(f"{change} {seconds:.2f} s" for change, seconds in delays.items())
    )
    for change, seconds in delays.items():
        assert seconds < PROPAGATION_LIMIT, f"node B showed the {change} after {seconds:.2f} s"


# --- several workers on one node --------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # it ended while we looked
        # The command name may hold spaces and parentheses; the fields after it do not.
        parent = int(text.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def workers_of(server: LiveServer, expected: int) -> list[int]:
    """granian's worker processes, once as many as ``expected`` are running (or the time is up)."""
    deadline = time.monotonic() + 20
    while len(workers := children_of(server.process.pid)) < expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return workers


def socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback TCP connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if (local_port, remote_port) == (server_port, client_port):
            return fields[9]
    return None


def worker_holding(connection: http.client.HTTPConnection, workers: list[int]) -> int | None:
    """Which worker process accepted ``connection`` (the one with its socket among its files)."""
    assert connection.sock is not None
    inode = socket_inode(connection.port, connection.sock.getsockname()[1])
    for pid in workers:
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(descriptor) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


@dataclass
class Pinned:
    """A kept-alive connection, and so one worker: every request on it reaches that worker."""

    connection: http.client.HTTPConnection
    worker: int
    client_port: int

    def fetch(self, path: str, headers: Mapping[str, str]) -> bytes:
        return self.send("GET", path, headers)

    def upload(self, token: str, dist: Dist) -> None:
        # Only the body and headers are used: this connection decides where they go.
        prepared = upload_request("http://worker", token, dist)
        assert isinstance(prepared.body, bytes)
        self.send("POST", "/legacy/", prepared.headers, prepared.body)

    def send(
        self, method: str, path: str, headers: Mapping[str, str | bytes], body: bytes | None = None
    ) -> bytes:
        status, answer = self.answer(method, path, headers, body)
        assert status == 200, (path, status, answer[:300])
        return answer

    def answer(
        self, method: str, path: str, headers: Mapping[str, str | bytes], body: bytes | None = None
    ) -> tuple[int, bytes]:
        self.connection.request(method, path, body=body, headers=dict(headers))
        response = self.connection.getresponse()
        answer = response.read()
        # http.client reconnects silently after a close, perhaps to another worker.
        assert self.connection.sock is not None
        assert self.connection.sock.getsockname()[1] == self.client_port, "connection was lost"
        return response.status, answer


def pin_every_worker(server: LiveServer, workers: list[int]) -> list[Pinned]:
    """One kept-alive connection to each worker; the kernel decides who accepts, so try often."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    assert host is not None and port is not None
    pinned: dict[int, Pinned] = {}
    deadline = time.monotonic() + 20
    while len(pinned) < len(workers) and time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/robots.txt")
        connection.getresponse().read()
        worker = worker_holding(connection, workers)
        if worker is None or worker in pinned:
            connection.close()
            continue
        assert connection.sock is not None
        pinned[worker] = Pinned(connection, worker, connection.sock.getsockname()[1])
    assert sorted(pinned) == workers, f"could not reach every worker: {sorted(pinned)}"
    return list(pinned.values())


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    with run_server(tmp_path, postgres_url(), args=["--workers", "2"]) as server:
        yield server


@pytest.mark.clients
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")
def test_two_workers_are_two_processes_and_each_shows_an_upload_within_2_seconds(
    two_workers: LiveServer, report: Callable[[str], None]
) -> None:
    workers = workers_of(two_workers, 2)
    assert len(workers) == 2, f"serve --workers 2 runs {len(workers)} worker process(es)"
    token = create_account(two_workers.database_url)
    upload(two_workers.url, token, FIRST)
    pinned = pin_every_worker(two_workers, workers)
    one = {FIRST.filename: False}
    for each in pinned:
        assert served(each.fetch) == everywhere(one)

    uploader, other = pinned
    uploader.upload(token, SECOND)
    done = time.monotonic()
    two = {FIRST.filename: False, SECOND.filename: False}
    # The uploader's next request, on its connection, reaches the worker that took the upload.
    assert served(uploader.fetch) == everywhere(two)
    delay = wait_until_served(other.fetch, two, done)
    # Whichever worker takes a new connection now, it has the upload.
    anyone = over_new_connections(two_workers.url)
    for _ in range(20):
        assert served(anyone) == everywhere(two)

    for each in pinned:
        each.connection.close()

    report(
        f"two workers on {database_kind()}, the other worker showed the upload after {delay:.2f} s"
    )
    assert delay < PROPAGATION_LIMIT, f"the other worker showed the upload after {delay:.2f} s"


def refused_after(worker: Pinned, headers: Mapping[str, str], since: float) -> float:
    """Seconds from ``since`` until the worker answers 401 to ``headers``, polling."""
    while True:
        status, _ = worker.answer("GET", "/simple/", headers)
        elapsed = time.monotonic() - since
        if status == 401 or elapsed > PROPAGATION_LIMIT + GRACE:
            return elapsed
        assert status == 200, status
        time.sleep(POLL_INTERVAL)


@pytest.mark.clients
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")
def test_a_revoked_read_token_stops_working_on_every_worker_of_both_nodes_within_2_seconds(
    tmp_path: Path, report: Callable[[str], None]
) -> None:
    private = {"WHEELYARD_PRIVATE": "1"}
    two = ["--workers", "2"]
    with scratch_database(postgres_url(), tmp_path) as database_url, ExitStack() as running:
        a = running.enter_context(launched(tmp_path / "a", database_url, private, two))
        b = running.enter_context(launched(tmp_path / "b", database_url, private, two))
        wait_until_up(a)
        wait_until_up(b)
        secret = create_account(database_url, TokenScope.READ)
        (token_id,) = token_ids(database_url)
        credentials = basic_auth("__token__", secret)
        pinned = [each for node in (a, b) for each in pin_every_worker(node, workers_of(node, 2))]
        assert len(pinned) == 4
        ada = Owner(a.url)
        # Every worker of both nodes has just verified, and so remembers, the token.
        for each in pinned:
            assert each.answer("GET", "/simple/", credentials)[0] == 200
        assert each.answer("GET", "/simple/", {})[0] == 401

        ada.revoke_token(token_id)
        done = time.monotonic()
        delays = {
            f"node {'ab'[number // 2]} worker {number % 2 + 1}": refused_after(
                each, credentials, done
            )
            for number, each in enumerate(pinned)
        }
        for each in pinned:
            each.connection.close()
    report(
        f"two nodes x two workers on {database_kind()}, the revoked read token refused after: "
        + ", ".join(f"{where} {seconds:.2f} s" for where, seconds in delays.items())
    )
    for where, seconds in delays.items():
        assert seconds < PROPAGATION_LIMIT, f"{where} took the revoked token for {seconds:.2f} s"


# --- one SQLite file, several writers ---------------------------------------------------------


def test_on_sqlite_a_write_survives_a_commit_made_elsewhere_meanwhile(tmp_path: Path) -> None:
    """A login on one worker while another worker (or the download recorder) commits.

    The login reads the account, checks the password (a rehash can take a tenth of a
    second), then writes its audit row; the other commit lands in between. Each connection
    stands for a worker or a node: SQLite treats another process the same way.
    """
    engine = create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    try:
        schema.upgrade(engine)
        sessions = session_factory(engine)
        passwords = cheap_passwords()
        with transaction(sessions) as db:
            users.create_user(
                db, passwords, name="Ada", email=EMAIL, password=PASSWORD, email_verified=True
            )
        failures: list[BaseException] = []

        def commit_elsewhere() -> None:
            try:
                with transaction(sessions) as elsewhere:
                    audit.record(elsewhere, audit.Action.LOGIN_FAILED, detail="bob@example.com")
            except BaseException as error:
                failures.append(error)

        with transaction(sessions) as login:
            ada = users.find_user_by_email(login, EMAIL)
            assert ada is not None
            other = threading.Thread(target=commit_elsewhere)
            other.start()
            # It commits now, or waits for the login's transaction if writers take turns.
            other.join(timeout=0.5)
            audit.record(login, audit.Action.LOGIN, user_id=ada.id)
        other.join()
        assert failures == []
        with transaction(sessions) as db:
            actions = db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert sorted(actions) == sorted([audit.Action.LOGIN, audit.Action.LOGIN_FAILED])
    finally:
        engine.dispose()


# --- the --workers option ---------------------------------------------------------------------


def workers_option(*args: str) -> object:
    return serve.make_context("serve", list(args)).params["workers"]


def test_workers_defaults_to_one_per_core() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert workers_option() == cores
    assert workers_option("--workers", "3") == 3
    assert workers_option("--workers", "auto") == cores
    assert workers_option("--workers", " AUTO ") == cores


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_workers_refuses_what_is_not_a_count(value: str) -> None:
    with pytest.raises(click.BadParameter):
        workers_option("--workers", value)
