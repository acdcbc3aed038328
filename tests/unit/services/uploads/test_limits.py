"""services.uploads.limits: files a minute and new projects an hour, counted from the rows."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.journal import JournalEntry
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services import journal
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.limits import UNLIMITED, UploadLimits, check_upload_rate


@pytest.fixture
def ada(make: Factory) -> User:
    return make.user(email="ada@example.com")


def uploaded_files(db: Session, make: Factory, user: User, count: int) -> None:
    package = make.package(versions=())
    for n in range(count):
        make.release(package, f"1.{n}").files[0].uploaded_by = user.id
    db.flush()


def created_projects(db: Session, make: Factory, user: User, count: int) -> None:
    for _ in range(count):
        journal.record(db, make.package(versions=()), journal.Action.CREATE, user_id=user.id)
    db.flush()


def refusal(db: Session, limits: UploadLimits, user: User, *, new_project: bool) -> UploadError:
    with pytest.raises(UploadError) as caught:
        check_upload_rate(db, limits, user.id, new_project=new_project)
    assert caught.value.status == 429
    return caught.value


def test_files_past_the_limit_a_minute_are_refused_with_a_wait(
    db: Session, make: Factory, ada: User
) -> None:
    limits = UploadLimits(files_per_minute=3)
    uploaded_files(db, make, ada, 2)
    check_upload_rate(db, limits, ada.id, new_project=False)
    uploaded_files(db, make, ada, 1)
    error = refusal(db, limits, ada, new_project=False)
    assert error.retry_after is not None and 0 < error.retry_after <= 60
    assert error.message.startswith("Too many uploads: this account may upload 3 files a minute.")
    # Another account has its own allowance; the operator has none to spend.
    check_upload_rate(db, limits, make.user().id, new_project=False)
    check_upload_rate(db, limits, None, new_project=True)


def test_files_older_than_a_minute_no_longer_count(db: Session, make: Factory, ada: User) -> None:
    uploaded_files(db, make, ada, 3)
    for file in db.scalars(sa.select(ReleaseFile)):
        file.created_date -= dt.timedelta(seconds=61)
    db.flush()
    check_upload_rate(db, UploadLimits(files_per_minute=3), ada.id, new_project=False)


def test_new_projects_past_the_limit_an_hour_are_refused(
    db: Session, make: Factory, ada: User
) -> None:
    limits = UploadLimits(new_projects_per_hour=2)
    created_projects(db, make, ada, 2)
    check_upload_rate(db, limits, ada.id, new_project=False)  # files to existing ones go on
    error = refusal(db, limits, ada, new_project=True)
    assert error.retry_after is not None and 3500 < error.retry_after <= 3600
    assert "may create 2 projects an hour" in error.message
    for entry in db.scalars(sa.select(JournalEntry)):
        entry.created_date -= dt.timedelta(minutes=61)
    db.flush()
    check_upload_rate(db, limits, ada.id, new_project=True)


def test_zero_is_unlimited(db: Session, make: Factory, ada: User) -> None:
    uploaded_files(db, make, ada, 5)
    created_projects(db, make, ada, 5)
    check_upload_rate(db, UNLIMITED, ada.id, new_project=True)
