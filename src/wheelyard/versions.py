"""PEP 440 versions: a byte key that sorts like ``packaging.version.Version``.

Databases cannot order by PEP 440, and ordering by text puts 1.10 before 1.9. Each release
stores ``sort_key`` bytes whose plain byte order is PEP 440 order, so "newest first" and "latest"
are an index scan on both SQLite and PostgreSQL. Versions that are not valid PEP 440 (old
uploads such as ``0.9-doduo``) sort below every valid one, among themselves naturally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

_PRE_RANK = {"a": b"1", "b": b"2", "rc": b"3"}
_LEADING_NUMBERS = re.compile(r"\d+")
_LEGACY_PARTS = re.compile(r"\d+|[a-z]+")


def _number(value: int) -> bytes:
    """Encode a non-negative integer so that byte order is numeric order."""
    digits = str(value).encode()
    return b"%02d" % len(digits) + digits


def _release_segments(release: tuple[int, ...]) -> bytes:
    # Trailing zeros do not count in PEP 440: 1.0 == 1.0.0.
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    # "." (0x2E) sorts below every digit, so a shorter release is smaller: 1.2 < 1.2.1.
    return b".".join(_number(part) for part in trimmed)


def _pep440_key(version: Version) -> bytes:
    # The phase markers below all sort below "." so the release part compares first.
    if version.pre is not None:
        pre = b"1" + _PRE_RANK[version.pre[0]] + _number(version.pre[1])
    elif version.post is None and version.dev is not None:
        pre = b"0"  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = b"4"  # a final release sorts after all of its pre-releases
    post = b"0" if version.post is None else b"1" + _number(version.post)
    dev = b"1" if version.dev is None else b"0" + _number(version.dev)
    key = b"1" + _number(version.epoch) + b"!" + _release_segments(version.release)
    key += b"-" + pre + post + dev
    if version.local:
        parts = []
        for part in str(version.local).split("."):
            # A numeric local segment sorts above an alphanumeric one.
            parts.append(b"1" + _number(int(part)) if part.isdigit() else b"0" + part.encode())
        key += b"+" + b".".join(parts)
    return key


def _legacy_key(text: str) -> bytes:
    parts = []
    for part in _LEGACY_PARTS.findall(text.lower()):
        parts.append(b"1" + _number(int(part)) if part.isdigit() else b"0" + part.encode())
    return b"0" + b".".join(parts)


@dataclass(frozen=True)
class ParsedVersion:
    """What a release row stores about its version string."""

    text: str
    sort_key: bytes
    major: int
    minor: int
    build: int
    is_prerelease: bool
    is_valid: bool


def parse(text: str) -> ParsedVersion:
    """Parse a version as uploaded; invalid PEP 440 is kept, sorted as legacy."""
    try:
        version = Version(text)
    except InvalidVersion:
        numbers = [int(n) for n in _LEADING_NUMBERS.findall(text)[:3]]
        numbers += [0] * (3 - len(numbers))
        return ParsedVersion(
            text=text,
            sort_key=_legacy_key(text),
            major=numbers[0],
            minor=numbers[1],
            build=numbers[2],
            is_prerelease=True,
            is_valid=False,
        )
    release = [*version.release, 0, 0]
    return ParsedVersion(
        text=text,
        sort_key=_pep440_key(version),
        major=release[0],
        minor=release[1],
        build=release[2],
        is_prerelease=version.is_prerelease,
        is_valid=True,
    )


def sort_key(text: str) -> bytes:
    return parse(text).sort_key
