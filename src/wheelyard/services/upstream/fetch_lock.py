"""One fetch of an upstream file per node, however many workers ask for it at once.

Concurrent first requests inside one worker already share one fetch (api/upstream_files.py);
the workers of a node are separate processes, so each would fetch the file too. They share
the var directory, so a lock file there (``flock``) lets one fetch while the others wait
and then find the row it wrote. Lock files are a fixed set of slots chosen by the filename's
hash: their number stays bounded whatever the upstream serves, and two files meeting in one
slot only wait for each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS_DIR = "upstream-fetch-locks"
SLOTS = 256


def slot_path(var_dir: Path, filename: str) -> Path:
    slot = int.from_bytes(hashlib.sha256(filename.encode()).digest()[:4], "big") % SLOTS
    return var_dir / LOCKS_DIR / f"{slot:03d}.lock"


@contextmanager
def fetching(var_dir: Path | None, filename: str) -> Iterator[None]:
    """Held while this process fetches ``filename``; other workers of the node wait here.
    Without a var directory (an app built in memory) there is nothing to share: no lock."""
    if var_dir is None:
        yield
        return
    path = slot_path(var_dir, filename)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
