"""pip and uv install from a live wheelyard: hashes, yanked releases, requires-python, downloads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.factories import Factory
from tests.helpers.install_clients import CLIENT_ENV, UV
from tests.helpers.live_server import LiveServer
from tests.helpers.passwords import cheap_passwords
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import journal
from wheelyard.storage.local import LocalStorage

pytestmark = pytest.mark.clients


@dataclass(frozen=True)
class Index:
    server: LiveServer
    engine: sa.Engine
    dists: dict[str, Dist]  # by filename

    @property
    def simple_url(self) -> str:
        return self.server.url + "/simple/"

    def sha256(self, filename: str) -> str:
        return self.dists[filename].sha256

    def download_agents(self, file_name: str, minimum: int) -> list[str]:
        """User agents of the downloads of ``file_name``, once at least ``minimum`` are in."""
        query = (
            sa.select(Download.user_agent)
            .join(ReleaseFile, ReleaseFile.id == Download.file_id)
            .where(ReleaseFile.filename == file_name)
            .order_by(Download.id)
        )
        deadline = time.monotonic() + 10  # the recorder writes at least once a second
        while True:
            with self.engine.connect() as connection:
                agents = [agent or "" for agent in connection.scalars(query)]
            if len(agents) >= minimum or time.monotonic() > deadline:
                return agents
            time.sleep(0.2)


def _seed(server: LiveServer) -> tuple[sa.Engine, dict[str, Dist]]:
    """tiny-lib 1.0; 1.1 yanked; 1.2 for Python 4 only; tiny-app 1.0 needs tiny-lib."""
    engine = create_engine(server.database_url)
    storage = LocalStorage(server.var_dir / "files")
    dists: dict[str, Dist] = {}
    releases: list[tuple[str, str, dict[str, Any], str | None]] = [
        ("tiny-lib", "1.0", {}, None),
        ("tiny-lib", "1.1", {}, "broken build"),
        # A lower bound: uv deliberately ignores upper bounds on Requires-Python.
        ("tiny-lib", "1.2", {"requires_python": ">=4"}, None),
        ("tiny-app", "1.0", {"requires_dist": ["tiny-lib>=1.0"]}, None),
    ]
    with transaction(session_factory(engine)) as db:
        make = Factory(db, cheap_passwords())
        packages = {name: make.package(name, versions=()) for name in ("tiny-lib", "tiny-app")}
        for name, version, metadata, yank_reason in releases:
            package = packages[name]
            release = make.release(package, version, with_file=False)
            release.requires_python = metadata.get("requires_python")
            release.yanked, release.yanked_reason = yank_reason is not None, yank_reason
            project = Project(name, version, **metadata)
            for dist in (wheel(project), sdist(project)):
                make.stored_file(release, dist, storage)
                dists[dist.filename] = dist
            journal.record(db, package, journal.Action.NEW_RELEASE, version=version)
    return engine, dists


@pytest.fixture(scope="module")
def index(live_server: LiveServer) -> Iterator[Index]:
    engine, dists = _seed(live_server)
    yield Index(live_server, engine, dists)
    engine.dispose()


def _run(command: Sequence[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _installed(venv: Path) -> dict[str, str]:
    result = _run([UV, "pip", "list", "--python", venv, "--format", "freeze"])
    assert result.returncode == 0, result.stderr
    return dict(line.split("==") for line in result.stdout.split())


def pip(venv: Path, index: Index, *args: str | Path) -> subprocess.CompletedProcess[str]:
    python = venv / "bin" / "python"
    options = ["--no-cache-dir", "--index-url", index.simple_url]
    return _run([sys.executable, "-m", "pip", "--python", python, "install", *options, *args])


def uv(venv: Path, index: Index, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return _run([UV, "pip", "install", "--python", venv, "--index-url", index.simple_url, *args])


INSTALLERS = {"pip": pip, "uv": uv}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_installs_skipping_yanked_and_incompatible_releases(
    index: Index, venv: Path, installer: str
) -> None:
    result = INSTALLERS[installer](venv, index, "tiny-app")

    assert result.returncode == 0, result.stdout + result.stderr
    # 1.1 is yanked and 1.2 wants Python 4: the resolver must settle on 1.0.
    assert _installed(venv) == {"tiny-app": "1.0", "tiny-lib": "1.0"}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_pinned_yanked_release_still_installs(index: Index, venv: Path, installer: str) -> None:
    result = INSTALLERS[installer](venv, index, "tiny-lib==1.1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert _installed(venv) == {"tiny-lib": "1.1"}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_require_hashes_accepts_the_served_file(
    index: Index, venv: Path, tmp_path: Path, installer: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    digest = index.sha256("tiny_lib-1.0-py3-none-any.whl")
    requirements.write_text(f"tiny-lib==1.0 --hash=sha256:{digest}\n")

    result = INSTALLERS[installer](venv, index, "--require-hashes", "-r", requirements)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _installed(venv) == {"tiny-lib": "1.0"}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_require_hashes_refuses_a_wrong_hash(
    index: Index, venv: Path, tmp_path: Path, installer: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tiny-lib==1.0 --hash=sha256:{'0' * 64}\n")

    result = INSTALLERS[installer](venv, index, "--require-hashes", "-r", requirements)

    assert result.returncode != 0
    assert _installed(venv) == {}


@pytest.mark.parametrize(("installer", "agent"), [("pip", "pip/"), ("uv", "uv/")])
def test_each_install_is_recorded_with_the_clients_user_agent(
    index: Index, venv: Path, installer: str, agent: str
) -> None:
    filename = "tiny_app-1.0-py3-none-any.whl"
    before = len(index.download_agents(filename, 0))

    result = INSTALLERS[installer](venv, index, "tiny-app")

    assert result.returncode == 0, result.stdout + result.stderr
    agents = index.download_agents(filename, before + 1)
    assert len(agents) == before + 1
    assert agents[-1].startswith(agent)
