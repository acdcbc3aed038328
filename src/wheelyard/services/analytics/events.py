"""A download to record: what the file handler hands the recorder, and the spool keeps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.index.served_files import ServedFile

# Column sizes of the downloads table; longer client-supplied values are cut to fit.
MAX_IP_ADDRESS = 64
MAX_USER_AGENT = 1024


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    package_id: str
    release_id: int
    file_id: int
    ip_address: str | None
    user_agent: str | None
    created_date: dt.datetime
    # Copied from the release and file when served, so the counts by version and file type
    # outlive a later deletion of either.
    version: str | None = None
    packagetype: str | None = None

    @classmethod
    def of(
        cls, release_file: ReleaseFile, ip_address: str | None, user_agent: str | None
    ) -> DownloadEvent:
        return cls.of_served(ServedFile.of(release_file), ip_address, user_agent)

    @classmethod
    def of_served(
        cls, served: ServedFile, ip_address: str | None, user_agent: str | None
    ) -> DownloadEvent:
        return cls(
            package_id=served.package_id,
            release_id=served.release_id,
            file_id=served.file_id,
            ip_address=ip_address[:MAX_IP_ADDRESS] if ip_address else None,
            user_agent=_clean_agent(user_agent),
            created_date=clock.now(),
            version=served.version,
            packagetype=served.packagetype,
        )


def _clean_agent(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    # PostgreSQL text cannot hold NUL, and one such row would fail its whole batch.
    return user_agent[:MAX_USER_AGENT].replace("\x00", "") or None
