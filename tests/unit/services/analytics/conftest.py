"""The file the analytics tests download."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.release_file import ReleaseFile


@pytest.fixture
def release_file(make: Factory, db: Session) -> ReleaseFile:
    """The one file of project "counted" 1.0, committed."""
    package = make.package("counted")
    db.commit()
    return package.releases[0].files[0]
