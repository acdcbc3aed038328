"""Running pip, uv and twine as their users do, kept away from this machine's own set-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# uv comes with the dev dependencies, beside the interpreter running the tests.
UV = Path(sys.executable).with_name("uv")
# Keep the clients away from the machine's configuration, keyrings, caches and PyPI.
CLIENT_ENV = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    "TWINE_NON_INTERACTIVE": "1",
    "UV_NO_CONFIG": "1",
    "UV_NO_CACHE": "1",
    "UV_PYTHON_DOWNLOADS": "never",
}


def new_venv(path: Path) -> Path:
    """A fresh, empty virtual environment at ``path`` (uv makes one in milliseconds)."""
    result = subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(path)],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return path
