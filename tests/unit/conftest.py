"""Fixtures the unit tests share beyond the suite's own (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelyard.storage.local import LocalStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """Storage in the test's own folder: the unit tests run services with no app around them.

    It stands in for the suite's ``storage`` (the app's), which would build an app each test
    for nothing; tests of other kinds of storage (S3, both kinds) still bring their own.
    """
    return LocalStorage(tmp_path / "files")
