"""twine uploads to a live wheelyard, pip installs what it uploaded, and racing uploads.

Everything here runs against a real server process (granian) on a loopback port, with the
real clients as subprocesses: what a team sees when it points twine and pip at its index.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from twine.commands.upload import skip_upload
from twine.package import PackageFile
from twine.repository import Repository

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import SHARED_DATA
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import LiveServer, wheelyard_cli
from tests.helpers.passwords import PASSWORD
from wheelyard.data.db_session import create_engine
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User

pytestmark = pytest.mark.clients

REAL_DISTS = SHARED_DATA / "dists"
LIB = Project("tiny-lib", "1.0", requires_python=">=3.8")
APP = Project(
    "tiny-app", "0.1", requires_dist=["tiny-lib>=1.0"], modules={"tiny_app/__init__.py": ""}
)


def run(command: Sequence[str | Path], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@dataclass(frozen=True)
class Index:
    server: LiveServer
    engine: sa.Engine
    token: str
    dists: Path  # tiny-lib (wheel and sdist) and tiny-app (sdist only)

    @property
    def upload_url(self) -> str:
        return self.server.url + "/legacy/"

    def twine(
        self, *args: str | Path, username: str = "ada@example.com", password: str = PASSWORD
    ) -> tuple[int, str]:
        return run(
            [
                sys.executable, "-m", "twine", "upload", "--repository-url", self.upload_url,
                "-u", username, "-p", password, "--disable-progress-bar", *args,
            ]
        )  # fmt: skip

    def filenames(self) -> dict[str, str]:
        """filename -> sha256 of every file the index holds."""
        with self.engine.connect() as connection:
            query = sa.select(ReleaseFile.filename, ReleaseFile.sha256_digest)
            return {name: sha256 for name, sha256 in connection.execute(query)}  # noqa: C416


@pytest.fixture(scope="module")
def index(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """Ada has an account (made with the CLI, as an operator would) and an API token."""
    wheelyard_cli(
        live_server,
        "user",
        "create",
        "--name",
        "Ada",
        "--email",
        "ada@example.com",
        "--password",
        PASSWORD,
    )
    token = wheelyard_cli(live_server, "token", "create", "--email", "ada@example.com").split()[-1]
    dists = tmp_path_factory.mktemp("dists")
    for dist in (wheel(LIB), sdist(LIB), sdist(APP)):
        dist.write_to(dists)
    engine = create_engine(live_server.database_url)
    yield Index(live_server, engine, token, dists)
    engine.dispose()


@pytest.fixture(scope="module")
def uploaded(index: Index) -> Index:
    """tiny-lib uploaded with Ada's password, tiny-app (sdist only) with her token."""
    code, output = index.twine(index.dists / wheel(LIB).filename, index.dists / sdist(LIB).filename)
    assert code == 0, output
    code, output = index.twine(
        index.dists / sdist(APP).filename, username="__token__", password=index.token
    )
    assert code == 0, output
    return index


def pip_install(venv: Path, index: Index, *requirements: str) -> tuple[int, str]:
    options = ["--no-cache-dir", "--index-url", index.server.url + "/simple/"]
    python = venv / "bin" / "python"
    return run(
        [sys.executable, "-m", "pip", "--python", python, "install", *options, *requirements]
    )


def test_twine_uploads_both_packages(uploaded: Index) -> None:
    expected = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in uploaded.dists.iterdir()
    }
    assert uploaded.filenames() == expected
    with uploaded.engine.connect() as connection:
        owners = connection.execute(
            sa.select(Maintainer.package_id, User.email).join(User, User.id == Maintainer.user_id)
        )
        assert sorted(tuple(owner) for owner in owners) == [
            ("tiny-app", "ada@example.com"),
            ("tiny-lib", "ada@example.com"),
        ]


def test_pip_installs_what_twine_uploaded(uploaded: Index, venv: Path) -> None:
    code, output = pip_install(venv, uploaded, "tiny-app")
    assert code == 0, output
    code, output = run(
        [venv / "bin" / "python", "-c", "import tiny_app, tiny_lib; print(tiny_lib.__version__)"]
    )
    assert (code, output.strip()) == (0, "1.0")


def test_the_same_file_again_uploads_cleanly(uploaded: Index) -> None:
    before = uploaded.filenames()
    code, output = uploaded.twine(uploaded.dists / wheel(LIB).filename)
    assert code == 0, output
    assert uploaded.filenames() == before


def test_a_rebuilt_file_is_refused_as_already_existing(uploaded: Index, tmp_path: Path) -> None:
    rebuilt = wheel(replace(LIB, summary="Rebuilt")).write_to(tmp_path)
    code, output = uploaded.twine(rebuilt)
    assert code == 1
    assert "400 Bad Request" in output
    code, output = uploaded.twine("--verbose", rebuilt)
    assert code == 1
    assert "File already exists" in output
    assert uploaded.filenames()[rebuilt.name] == wheel(LIB).sha256


def test_twines_skip_existing_logic_accepts_our_answer(uploaded: Index, tmp_path: Path) -> None:
    """twine's --skip-existing reads "already exist" from a 400; ours says so.

    twine 6.1 and later refuse the flag for any index but PyPI before sending anything, so
    the check runs twine's own upload and skip decision on our live response instead.
    """
    rebuilt = wheel(replace(LIB, summary="Rebuilt again")).write_to(tmp_path)
    package = PackageFile.from_filename(str(rebuilt), comment=None)
    repository = Repository(
        uploaded.upload_url, "ada@example.com", PASSWORD, disable_progress_bar=True
    )
    try:
        response = repository.upload(package)
    finally:
        repository.close()
    assert response.status_code == 400
    assert skip_upload(response, skip_existing=True, package=package)
    assert not skip_upload(response, skip_existing=False, package=package)


def test_a_wrong_password_is_refused(uploaded: Index, tmp_path: Path) -> None:
    new = wheel(replace(LIB, version="2.0")).write_to(tmp_path)
    code, output = uploaded.twine(new, password="not the password")
    assert code == 1
    assert "403 Forbidden" in output
    assert new.name not in uploaded.filenames()


def test_a_large_refused_upload_still_gets_its_answer(uploaded: Index, tmp_path: Path) -> None:
    # Refused before its body is read; the server reads it anyway so twine hears why.
    noise = base64.b64encode(os.urandom(6 * 1024 * 1024)).decode()
    big = replace(LIB, version="4.0", modules={"tiny_lib/noise.py": f"NOISE = {noise!r}\n"})
    path = wheel(big).write_to(tmp_path)
    code, output = uploaded.twine(path, password="not the password")
    assert code == 1
    assert "403 Forbidden" in output, output


def test_twine_shows_the_reason_with_verbose(uploaded: Index, tmp_path: Path) -> None:
    new = wheel(replace(LIB, version="2.0")).write_to(tmp_path)
    code, output = uploaded.twine("--verbose", new, username="__token__", password="wheelyard-no")
    assert code == 1
    assert "403 Forbidden" in output
    assert "Invalid or non-existent authentication information." in output


# --- racing uploads ---------------------------------------------------------------------------


def _post(url: str, dist: Dist, email: str) -> tuple[int, str]:
    auth = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": dist.filename.split("-")[0],
        "version": dist.filename.split("-")[1],
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": hashlib.sha256(dist.content).hexdigest(),
    }
    response = requests.post(
        url,
        data=fields,
        files={"content": (dist.filename, dist.content)},
        headers={"Authorization": f"Basic {auth}"},
        timeout=60,
    )
    return response.status_code, response.text[:200]


def _race(url: str, entrants: dict[str, Dist]) -> dict[str, tuple[int, str]]:
    """Post each entrant's file at the same moment; the status and reason each one got."""
    statuses: dict[str, tuple[int, str]] = {}
    start = threading.Barrier(len(entrants))

    def enter(email: str, dist: Dist) -> None:
        start.wait()
        statuses[email] = _post(url, dist, email)

    threads = [threading.Thread(target=enter, args=entrant) for entrant in entrants.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_users_racing_to_create_a_project_never_see_a_500(index: Index) -> None:
    wheelyard_cli(
        index.server,
        "user",
        "create",
        "--name",
        "Bob",
        "--email",
        "bob@example.com",
        "--password",
        PASSWORD,
    )
    for round_number in range(3):
        name = f"race-{round_number}"
        statuses = _race(
            index.upload_url,
            {
                "ada@example.com": wheel(Project(name, "1.0")),
                "bob@example.com": wheel(Project(name, "1.0", summary="Bob's")),
            },
        )
        # One creates the project; the other then finds it is not theirs (403) or, when it
        # read before the winner committed and after, that the winner's file took the name.
        answers = sorted(statuses.values())
        assert answers[0][0] == 200, statuses
        loser_status, loser_reason = answers[1]
        assert loser_status == 403 or (
            loser_status == 400 and "File already exists" in loser_reason
        ), statuses
        with index.engine.connect() as connection:
            owners = connection.scalars(
                sa.select(Maintainer.user_id).where(Maintainer.package_id == name)
            ).all()
        assert len(owners) == 1


# --- the real-world files ---------------------------------------------------------------------


@pytest.mark.skipif(not REAL_DISTS.is_dir(), reason=f"no real-world dists at {REAL_DISTS}")
def test_all_real_world_files_upload_and_install(index: Index, venv: Path) -> None:
    files = sorted(REAL_DISTS.iterdir())
    code, output = index.twine(*files, username="__token__", password=index.token)
    assert code == 0, output
    held = index.filenames()
    assert all(path.name in held for path in files)
    with index.engine.connect() as connection:
        flask = connection.execute(sa.select(Package.name).where(Package.id == "flask")).scalar()
    assert flask is not None
    code, output = pip_install(venv, index, "flask", "requests", "alembic")
    assert code == 0, output
    code, output = run([venv / "bin" / "python", "-c", "import flask, requests, alembic"])
    assert code == 0, output
