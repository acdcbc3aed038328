"""Build the configured FileStorage from Settings."""

from __future__ import annotations

from wheelyard.config import Settings
from wheelyard.storage.base import FileStorage
from wheelyard.storage.local import LocalStorage


def create_storage(settings: Settings) -> FileStorage:
    return LocalStorage(settings.storage_path)
