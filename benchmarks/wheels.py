"""Tiny, valid wheels in bulk: the synthetic part of the benchmark's index.

Each wheel holds one module, ``<name>.dist-info/METADATA``, ``WHEEL`` and a ``RECORD`` whose
hashes are right, so every index accepts it as a real upload. The set is deterministic:
the same counts give byte-identical files, so runs load exactly the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_PREFIX = "yard-bench"
TAG = "py3-none-any"
REQUIRES_PYTHON = ">=3.8"
# Fixed timestamps: zip entries otherwise carry the time of generation.
_EPOCH = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class TinyWheel:
    project: str  # the normalized project name
    version: str

    @property
    def dist_name(self) -> str:
        return self.project.replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.dist_name}-{self.version}-{TAG}.whl"


def plan(files: int, projects: int, prefix: str = PROJECT_PREFIX) -> list[TinyWheel]:
    """``files`` wheels spread evenly over ``projects`` projects, versions 1.0.0 upwards."""
    if projects < 1 or files < projects:
        raise ValueError("need at least one project and one file per project")
    width = len(str(projects))
    wheels = []
    for index in range(files):
        project = f"{prefix}-{index % projects:0{width}d}"
        wheels.append(TinyWheel(project, f"1.0.{index // projects}"))
    return wheels


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build(wheel: TinyWheel, payload: bytes = b"") -> bytes:
    """The bytes of one wheel; a ``payload`` goes in as a data file, stored uncompressed."""
    info = f"{wheel.dist_name}-{wheel.version}.dist-info"
    members = {
        f"{wheel.dist_name}/__init__.py": f'VERSION = "{wheel.version}"\n'.encode(),
        **({f"{wheel.dist_name}/payload.bin": payload} if payload else {}),
        f"{info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {wheel.project}\n"
            f"Version: {wheel.version}\n"
            "Summary: A generated wheel that fills the benchmark's index.\n"
            f"Requires-Python: {REQUIRES_PYTHON}\n"
        ).encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: wheelyard-bench\nRoot-Is-Purelib: true\nTag: {TAG}\n"
        ).encode(),
    }
    record = [_record_line(path, data) for path, data in members.items()]
    members[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            entry = zipfile.ZipInfo(path, date_time=_EPOCH)
            # Random bytes do not deflate: stored, the wheel is as large as its payload.
            stored = path.endswith("/payload.bin")
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


def generate(
    directory: Path, files: int, projects: int, prefix: str = PROJECT_PREFIX
) -> list[Path]:
    """Write the planned wheels into ``directory`` (kept when already there) and list them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for wheel in plan(files, projects, prefix):
        path = directory / wheel.filename
        if not path.exists():
            path.write_bytes(build(wheel))
        paths.append(path)
    return paths


def generate_large(
    directory: Path, count: int, megabytes: int, prefix: str = "yard-large"
) -> list[Path]:
    """``count`` versions of one project, each a valid wheel carrying ``megabytes`` MB of
    incompressible bytes (seeded by the filename, so a file's bytes are the same every run
    and differ from every other file's)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        wheel = TinyWheel(prefix, f"1.0.{number}")
        path = directory / wheel.filename
        if not path.exists():
            payload = random.Random(wheel.filename).randbytes(megabytes * 1024 * 1024)
            path.write_bytes(build(wheel, payload))
        paths.append(path)
    return paths
