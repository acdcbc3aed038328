"""Release files whose content is really in storage, for the tests that download them."""

from __future__ import annotations

from dataclasses import dataclass

from tests.helpers.dists import Dist
from wheelyard.data.release_file import ReleaseFile


@dataclass(frozen=True)
class StoredFile:
    """A release file's row and the distribution whose bytes storage holds for it."""

    file: ReleaseFile
    dist: Dist

    @property
    def url(self) -> str:
        """Where the index serves the file."""
        assert self.file.storage_path is not None
        return "/packages/" + self.file.storage_path
