"""``wheelyard serve`` on a port another process holds: one clear line, nothing started."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from wheelyard.cli import main


@pytest.fixture(params=["plain", "reuseport"])
def taken_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port something listens on: a plain server, or one bound as granian binds
    (``SO_REUSEPORT``), which a second granian would silently share."""
    with socket.socket() as holder:
        if request.param == "reuseport":
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_serve_on_a_taken_port_says_so_in_one_line(taken_port: int, tmp_path: Path) -> None:
    database = tmp_path / "wheelyard.db"
    result = CliRunner().invoke(
        main,
        ["serve", "--port", str(taken_port), "--workers", "1"],
        env={
            "WHEELYARD_DATABASE_URL": f"sqlite:///{database}",
            "WHEELYARD_VAR_DIR": str(tmp_path),
        },
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"Error: port {taken_port} on 127.0.0.1 is already in use by another process;"
        " stop it or choose another port with --port"
    ]
    assert "serving on" not in result.output
    # Refused before anything was made: no database was created or migrated.
    assert not database.exists()


def test_serve_on_a_host_that_does_not_resolve(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "--host", "no-such-host.invalid", "--workers", "1"],
        env={"WHEELYARD_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"},
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot serve on no-such-host.invalid:")
    assert len(result.output.strip().splitlines()) == 1
