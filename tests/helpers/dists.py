"""Tiny, valid wheels and sdists built in memory, so tests need nothing beside the repo."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Dist:
    filename: str
    content: bytes
    metadata: str  # the core metadata text (PKG-INFO or METADATA)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def write_to(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.filename
        path.write_bytes(self.content)
        return path


@dataclass(frozen=True)
class Project:
    """What a distribution declares; enough to make pip, uv and twine happy."""

    name: str
    version: str
    summary: str = "A tiny package built by the test suite"
    requires_dist: Sequence[str] = ()
    requires_python: str | None = None
    classifiers: Sequence[str] = ()
    license_expression: str | None = None
    description: str = "Tiny\n====\n\nA package built by the test suite.\n"
    description_content_type: str = "text/x-rst"
    # 2.4 when there is a License-Expression (a field of 2.4), else 2.1, unless given.
    metadata_version: str = ""
    modules: Mapping[str, str] = field(default_factory=dict)
    # Further core metadata lines as written ("License: MIT", "Project-URL: Source, https://..."),
    # after the fields above and before the README.
    extra_headers: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.metadata_version:
            declared = "2.4" if self.license_expression else "2.1"
            object.__setattr__(self, "metadata_version", declared)

    @property
    def dist_name(self) -> str:
        """The name as it appears in filenames (PEP 427 / PEP 625 escaping)."""
        return "".join(c if c.isalnum() else "_" for c in self.name).lower()

    def core_metadata(self) -> str:
        lines = [
            f"Metadata-Version: {self.metadata_version}",
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Summary: {self.summary}",
            "Author: Test Author",
            "Author-email: author@example.com",
        ]
        if self.license_expression:
            lines.append(f"License-Expression: {self.license_expression}")
        lines += [f"Classifier: {classifier}" for classifier in self.classifiers]
        lines += [f"Requires-Dist: {requirement}" for requirement in self.requires_dist]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += list(self.extra_headers)
        lines.append(f"Description-Content-Type: {self.description_content_type}")
        return "\n".join(lines) + "\n\n" + self.description

    def package_modules(self) -> Mapping[str, str]:
        if self.modules:
            return self.modules
        module = self.dist_name
        return {f"{module}/__init__.py": f'__version__ = "{self.version}"\n'}


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(project: Project, tag: str = "py3-none-any") -> Dist:
    dist_info = f"{project.dist_name}-{project.version}.dist-info"
    metadata = project.core_metadata()
    members: dict[str, bytes] = {
        path: text.encode() for path, text in project.package_modules().items()
    }
    members[f"{dist_info}/METADATA"] = metadata.encode()
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: wheelyard-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    record_path = f"{dist_info}/RECORD"
    record = "\n".join(_record_line(path, data) for path, data in members.items())
    members[record_path] = f"{record}\n{record_path},,\n".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
    filename = f"{project.dist_name}-{project.version}-{tag}.whl"
    return Dist(filename=filename, content=buffer.getvalue(), metadata=metadata)


# An in-tree PEP 517 backend shipped inside each sdist, so that pip and uv can build it with
# nothing but wheelyard as their index (no setuptools to fetch).
_BACKEND = """\
import base64, hashlib, os, zipfile

def _metadata():
    with open("PKG-INFO", encoding="utf-8") as f:
        return f.read()

def _field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line.split(": ", 1)[1]
    raise KeyError(name)

def get_requires_for_build_wheel(config_settings=None):
    return []

def get_requires_for_build_sdist(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text = _metadata()
    name = "".join(c if c.isalnum() else "_" for c in _field(text, "Name")).lower()
    version = _field(text, "Version")
    dist_info = name + "-" + version + ".dist-info"
    members = {}
    for root, _, files in os.walk(name):
        for file in files:
            path = os.path.join(root, file).replace(os.sep, "/")
            with open(path, "rb") as f:
                members[path] = f.read()
    members[dist_info + "/METADATA"] = text.encode()
    wheel = "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    members[dist_info + "/WHEEL"] = wheel.encode()
    lines = []
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(path + ",sha256=" + digest + "," + str(len(data)))
    lines.append(dist_info + "/RECORD,,")
    members[dist_info + "/RECORD"] = ("\\n".join(lines) + "\\n").encode()
    filename = name + "-" + version + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return filename
"""


def sdist(project: Project) -> Dist:
    """A PEP 625 sdist that builds with its own in-tree backend."""
    root = f"{project.dist_name}-{project.version}"
    metadata = project.core_metadata()
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["."]\n'
    )
    members: dict[str, bytes] = {
        f"{root}/{path}": text.encode() for path, text in project.package_modules().items()
    }
    members[f"{root}/PKG-INFO"] = metadata.encode()
    members[f"{root}/pyproject.toml"] = pyproject.encode()
    members[f"{root}/tiny_backend.py"] = _BACKEND.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1704067200
            archive.addfile(info, io.BytesIO(data))
    filename = f"{root}.tar.gz"
    return Dist(filename=filename, content=buffer.getvalue(), metadata=metadata)
