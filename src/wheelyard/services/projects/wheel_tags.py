"""A wheel's compatibility tags in words: "CPython 3.11, manylinux: glibc 2.17+ x86-64".

Read from the filename (``packaging.utils.parse_wheel_filename``), as PyPI's file list shows
them: the interpreters first, then the platforms, each named once however many tags share it.
"""

from __future__ import annotations

import re

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

_INTERPRETERS = {
    "py": "Python",
    "cp": "CPython",
    "pp": "PyPy",
    "ip": "IronPython",
    "jy": "Jython",
    "gp": "GraalPy",
}

_ARCHITECTURES = {
    "x86_64": "x86-64",
    "amd64": "x86-64",
    "i686": "x86",
    "i386": "x86",
    "win32": "x86",
    "arm64": "ARM64",
    "aarch64": "ARM64",
    "armv7l": "ARMv7l",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "universal2": "universal2 (ARM64, x86-64)",
    "universal": "universal",
    "intel": "Intel",
}

_MANYLINUX_LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_MUSLLINUX = re.compile(r"^musllinux_(\d+)_(\d+)_(.+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(.+)$")
_INTERPRETER = re.compile(r"^([a-z]+)(\d)(\d*)$")


def _architecture(name: str) -> str:
    return _ARCHITECTURES.get(name, name)


def interpreter_name(interpreter: str) -> str:
    """``cp311`` -> "CPython 3.11", ``py3`` -> "Python 3", ``pp39`` -> "PyPy 3.9"."""
    match = _INTERPRETER.match(interpreter)
    if match is None or match.group(1) not in _INTERPRETERS:
        return interpreter
    implementation, major, minor = match.groups()
    version = f"{major}.{minor}" if minor else major
    return f"{_INTERPRETERS[implementation]} {version}"


def platform_name(platform: str) -> str:
    """``manylinux_2_17_x86_64`` -> "manylinux: glibc 2.17+ x86-64", ``any`` -> ""."""
    if platform == "any":
        return ""
    for legacy, glibc in _MANYLINUX_LEGACY.items():
        if platform.startswith(legacy + "_"):
            return f"manylinux: glibc {glibc}+ {_architecture(platform[len(legacy) + 1 :])}"
    if match := _MANYLINUX.match(platform):
        return f"manylinux: glibc {match[1]}.{match[2]}+ {_architecture(match[3])}"
    if match := _MUSLLINUX.match(platform):
        return f"musllinux: musl {match[1]}.{match[2]}+ {_architecture(match[3])}"
    if match := _MACOS.match(platform):
        return f"macOS {match[1]}.{match[2]}+ {_architecture(match[3])}"
    if platform.startswith("win"):
        return "Windows " + _architecture(platform.removeprefix("win_"))
    if platform.startswith("linux_"):
        return "Linux " + _architecture(platform.removeprefix("linux_"))
    return platform


def _unique(values: list[str]) -> list[str]:
    return [value for value in dict.fromkeys(values) if value]


def _sorted_tags(tags: frozenset[Tag]) -> list[Tag]:
    return sorted(tags, key=lambda tag: (tag.interpreter, tag.abi, tag.platform))


def describe(filename: str) -> str | None:
    """The wheel's tags in words; None for a file that is not a wheel (or not a valid one)."""
    try:
        _name, _version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    ordered = _sorted_tags(tags)
    interpreters = _unique([interpreter_name(tag.interpreter) for tag in ordered])
    platforms = _unique([platform_name(tag.platform) for tag in ordered])
    return ", ".join(interpreters + platforms)
