"""``wheelyard serve`` keeps what it stores from other local users: var 700, files 600."""

from __future__ import annotations

import stat
import urllib.request
from pathlib import Path

from tests.helpers.live_server import run_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_var_directory_and_the_database_files_are_the_servers_alone(tmp_path: Path) -> None:
    # As an older version left them: a world-readable directory and database.
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)
    database = var_dir / "wheelyard.db"
    database.touch()
    database.chmod(0o644)
    with run_server(var_dir) as server:
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            assert response.status == 200
        assert mode(var_dir) == 0o700
        assert mode(database) == 0o600
        journal_files = [Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert any(path.exists() for path in journal_files)  # WAL mode, a connection open
        for path in journal_files:
            if path.exists():
                assert mode(path) == 0o600, path
        assert mode(var_dir / "files") == 0o700
