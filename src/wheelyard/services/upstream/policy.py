"""Supply-chain controls on what the upstreams may give us: which projects, and how new.

``WHEELYARD_UPSTREAM_ALLOW`` and ``WHEELYARD_UPSTREAM_DENY`` name the upstream projects that
are served (fnmatch patterns on normalized names; deny wins; no allow patterns allows all);
a refused project is never fetched. ``WHEELYARD_UPSTREAM_MIN_AGE`` holds back files uploaded
more recently than that, by the upload time the upstream's page gives: most malicious
releases are found and removed within days, and a cooldown keeps them from being installed
meanwhile. A file whose page gives no upload time (PEP 503 HTML pages carry none) cannot be
shown to be old enough, so with a minimum age set it is held back too; with none set, nothing
is held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from packaging.version import InvalidVersion, Version

from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.upstream.documents import UpstreamFile, UpstreamListing, version_of

UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def describe_age(seconds: int) -> str:
    """``604800`` as ``7d``: the largest unit that divides it, as the setting is written."""
    for unit, size in UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def upload_time(value: str | None) -> dt.datetime | None:
    """An upstream's ISO 8601 upload time as naive UTC; None when absent or unreadable."""
    if not value:
        return None
    try:
        return _naive_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Screened:
    """A listing with the held-back files taken out, and why each was."""

    listing: UpstreamListing
    held: dict[str, str]  # filename -> reason
    # The first moment a held file comes out of its cooldown; None when none will by itself.
    next_release: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Policy:
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    min_age_seconds: int = 0

    def refusal(self, project_id: str) -> str | None:
        """Why the upstream project may not be served, or None when it may."""
        denied = next((p for p in self.deny if fnmatchcase(project_id, p)), None)
        if denied is not None:
            return (
                f"the upstream project {project_id!r} is denied by WHEELYARD_UPSTREAM_DENY "
                f"(pattern {denied!r})"
            )
        if self.allow and not any(fnmatchcase(project_id, p) for p in self.allow):
            return (
                f"the upstream project {project_id!r} matches no WHEELYARD_UPSTREAM_ALLOW pattern"
            )
        return None

    def released_at(self, file: UpstreamFile) -> dt.datetime | None:
        """When the file comes out of its cooldown; None when its time is unknown."""
        uploaded = upload_time(file.upload_time)
        if uploaded is None:
            return None
        return uploaded + dt.timedelta(seconds=self.min_age_seconds)

    def held_reason(self, file: UpstreamFile, now: dt.datetime) -> str | None:
        """Why the file is held back at ``now`` (naive UTC), or None when it is served."""
        if self.min_age_seconds <= 0:
            return None
        age = describe_age(self.min_age_seconds)
        released = self.released_at(file)
        if released is None:
            return (
                f"{file.filename} is held back: the upstream gives no upload time for it, and "
                f"WHEELYARD_UPSTREAM_MIN_AGE ({age}) admits only files known to be older"
            )
        if released <= _naive_utc(now):
            return None
        uploaded = upload_time(file.upload_time)
        assert uploaded is not None
        return (
            f"{file.filename} is held back: uploaded {_stamp(uploaded)}, less than {age} ago "
            f"(WHEELYARD_UPSTREAM_MIN_AGE); served from {_stamp(released)}"
        )

    def held_file(
        self, listing: UpstreamListing | None, filename: str, now: dt.datetime
    ) -> str | None:
        """Why a download of ``filename`` (or of its ``.metadata``) is held back, or None.
        ``listing`` is the cached page; a file it no longer lists has no known upload time."""
        if self.min_age_seconds <= 0:
            return None
        dist = filename.removesuffix(METADATA_SUFFIX)
        listed = next((f for f in listing.files if f.filename == dist), None) if listing else None
        if listed is None:
            return (
                f"{filename} is held back: its upload time is not known (the upstream's page "
                f"no longer lists it) and WHEELYARD_UPSTREAM_MIN_AGE "
                f"({describe_age(self.min_age_seconds)}) admits only files known to be older"
            )
        return self.held_reason(listed, now)

    def screen(self, listing: UpstreamListing, now: dt.datetime) -> Screened:
        """The listing as we serve it: held-back files out, and the versions left with none
        of their files (a version the upstream lists without files stays)."""
        if self.min_age_seconds <= 0:
            return Screened(listing, {}, None)
        kept: list[UpstreamFile] = []
        held: dict[str, str] = {}
        next_release: dt.datetime | None = None
        for file in listing.files:
            reason = self.held_reason(file, now)
            if reason is None:
                kept.append(file)
                continue
            held[file.filename] = reason
            released = self.released_at(file)
            if released is not None and (next_release is None or released < next_release):
                next_release = released
        if not held:
            return Screened(listing, {}, None)
        shown = {version_of(file.filename) for file in kept}
        hidden = {version_of(file.filename) for file in listing.files if file.filename in held}
        gone = {version for version in hidden - shown if version is not None}
        versions = tuple(v for v in listing.versions if _parsed(v) not in gone)
        return Screened(replace(listing, versions=versions, files=tuple(kept)), held, next_release)


def _parsed(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None
