"""Build the configured FileStorage from Settings.

``storage_url`` (``WHEELYARD_STORAGE_URL``) chooses the backend: unset, files live under
``storage_path``; ``s3://bucket/prefix`` puts them in an S3-compatible object store whose
endpoint, credentials and region come from the standard AWS settings.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wheelyard.config import Settings
from wheelyard.storage.base import FileStorage
from wheelyard.storage.local import LocalStorage


def create_storage(settings: Settings) -> FileStorage:
    url = storage_url(settings)
    if url is None:
        return LocalStorage(settings.storage_path)
    if urlsplit(url).scheme == "s3":
        # Imported here so that an index on local files never pays for loading boto3.
        from wheelyard.storage.s3 import S3Storage

        return S3Storage.from_url(url)
    raise ValueError(
        f"unsupported storage URL {url!r}: use s3://bucket/prefix, or leave it unset to keep "
        "files under the storage path"
    )


def storage_url(settings: Settings) -> str | None:
    """The configured storage URL; None (or empty) means local files."""
    return settings.storage_url or None
