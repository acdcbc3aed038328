"""What ``wheelyard cache warm -r requirements.txt`` fetches ahead: for each requirement, the
files of the newest version of it that pip could choose.

The rule is pip's, as far as one index page decides it: the versions the specifier admits
(pre-releases only when it names one or nothing else matches, as ``packaging`` filters
them), yanked files only for a version pinned with ``==`` (PEP 592), files held back by
the cooldown never. All of the chosen version's files are fetched, every wheel and the sdist,
with their core metadata, since which one pip takes depends on the machine it runs on.
Dependencies are not followed: a fully pinned file (``pip freeze``, ``pip-compile``) names
them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from wheelyard.services.upstream.documents import UpstreamFile, UpstreamListing, version_of


class RequirementsError(ValueError):
    """A line of the requirements file is not a requirement we can warm."""


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    requirement: Requirement


def parse_requirements(text: str) -> list[Line]:
    """The requirements of a pip requirements file; options lines (``-r``, ``--hash`` and
    the like) are not followed and a requirement's own options are ignored."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("-"):
            continue
        # pip allows options after a requirement: "name==1.0 --hash=sha256:...".
        line = line.split(" --", 1)[0].strip().rstrip("\\").strip()
        try:
            lines.append(Line(number, Requirement(line)))
        except InvalidRequirement as error:
            raise RequirementsError(f"line {number}: {raw.strip()!r}: {error}") from None
    return lines


def _pinned(requirement: Requirement) -> bool:
    return any(spec.operator in {"==", "==="} for spec in requirement.specifier)


def choose(
    listing: UpstreamListing, requirement: Requirement
) -> tuple[Version, list[UpstreamFile]]:
    """The newest version the requirement admits and its files; raises LookupError."""
    pinned = _pinned(requirement)
    by_version: dict[Version, list[UpstreamFile]] = {}
    for file in listing.files:
        version = version_of(file.filename)
        if version is None or (file.yanked and not pinned):
            continue
        by_version.setdefault(version, []).append(file)
    admitted = list(requirement.specifier.filter(by_version))
    if not admitted:
        raise LookupError(f"no file of {requirement.name} matches {requirement}")
    newest = max(admitted)
    return newest, by_version[newest]
