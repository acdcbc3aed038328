"""One timed ``pip install flask requests alembic`` from an index into a fresh virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PIP_TARGETS = ("flask", "requests", "alembic")


@dataclass(frozen=True)
class Install:
    seconds: float
    ok: bool
    output_tail: str


def install(label: str, index_url: str, workdir: Path) -> Install:
    """The install from ``index_url`` into ``workdir/pip/<label>``, ``--no-cache-dir``."""
    venv = workdir / "pip" / label
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    # pip's own configuration (find-links, extra indexes, constraints) must not add files
    # from elsewhere: only the index under test may answer.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir"]
    argv += ["--disable-pip-version-check", "--index-url", index_url, *PIP_TARGETS]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    return Install(seconds, done.returncode == 0, (done.stdout + done.stderr)[-2000:])
