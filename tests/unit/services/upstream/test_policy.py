"""Which upstream projects are served, and which files are held back by the cooldown."""

from __future__ import annotations

import datetime as dt

import pytest

from wheelyard.services.upstream.documents import UpstreamFile, UpstreamListing
from wheelyard.services.upstream.policy import Policy, describe_age, upload_time

NOW = dt.datetime(2026, 12, 10, 12, 0, 0)
WEEK = 7 * 86400


def file(filename: str, uploaded: str | None) -> UpstreamFile:
    return UpstreamFile(
        filename=filename,
        url=f"https://up.example/files/{filename}",
        sha256="0" * 64,
        size=1,
        upload_time=uploaded,
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        metadata_sha256=None,
    )


def test_deny_wins_over_allow_and_empty_allow_allows_all() -> None:
    policy = Policy(allow=("django*", "requests"), deny=("django-evil*",))
    assert policy.refusal("django") is None
    assert policy.refusal("requests") is None
    denied = policy.refusal("django-evil-tools")
    assert denied is not None
    assert "WHEELYARD_UPSTREAM_DENY" in denied
    assert "'django-evil*'" in denied
    not_allowed = policy.refusal("flask")
    assert not_allowed is not None
    assert "WHEELYARD_UPSTREAM_ALLOW" in not_allowed
    assert Policy().refusal("anything") is None
    assert Policy(deny=("bad-*",)).refusal("good") is None


def test_no_minimum_age_holds_nothing_even_without_upload_times() -> None:
    listing = UpstreamListing(("1.0",), (file("a-1.0.tar.gz", None),))
    screened = Policy().screen(listing, NOW)
    assert screened.listing == listing
    assert screened.held == {}


def test_files_younger_than_the_minimum_age_and_without_a_time_are_held_back() -> None:
    old = file("demo-1.0-py3-none-any.whl", "2026-11-01T08:00:00.123456Z")
    new_wheel = file("demo-2.0-py3-none-any.whl", "2026-12-09T12:00:00Z")
    new_sdist = file("demo-2.0.tar.gz", "2026-12-09T13:00:00+00:00")
    half = file("demo-1.5.tar.gz", "2026-11-30T12:00:00Z")
    half_new = file("demo-1.5-py3-none-any.whl", "2026-12-08T12:00:00Z")
    unknown = file("demo-3.0.tar.gz", None)
    listing = UpstreamListing(
        ("1.0", "1.5", "2.0", "3.0", "4.0"), (old, new_wheel, new_sdist, half, half_new, unknown)
    )
    screened = Policy(min_age_seconds=WEEK).screen(listing, NOW)
    assert [f.filename for f in screened.listing.files] == [old.filename, half.filename]
    # 2.0 and 3.0 have no file left; 1.5 keeps its sdist; 4.0 had no files upstream.
    assert screened.listing.versions == ("1.0", "1.5", "4.0")
    assert set(screened.held) == {
        new_wheel.filename,
        new_sdist.filename,
        half_new.filename,
        unknown.filename,
    }
    assert "uploaded 2026-12-09T12:00:00Z, less than 7d ago" in screened.held[new_wheel.filename]
    assert "served from 2026-12-16T12:00:00Z" in screened.held[new_wheel.filename]
    assert "no upload time" in screened.held[unknown.filename]
    assert screened.next_release == dt.datetime(2026, 12, 15, 12, 0, 0)


def test_a_file_exactly_the_minimum_age_old_is_served() -> None:
    policy = Policy(min_age_seconds=3600)
    assert policy.held_reason(file("a-1.tar.gz", "2026-12-10T11:00:00Z"), NOW) is None
    assert policy.held_reason(file("a-1.tar.gz", "2026-12-10T11:00:01Z"), NOW) is not None


def test_an_unreadable_upload_time_counts_as_none() -> None:
    assert upload_time("yesterday") is None
    assert upload_time("2026-12-10T11:00:00+02:00") == dt.datetime(2026, 12, 10, 9, 0, 0)
    held = Policy(min_age_seconds=60).held_reason(file("a-1.tar.gz", "yesterday"), NOW)
    assert held is not None
    assert "no upload time" in held


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(604800, "7d"), (86400 * 3, "3d"), (43200, "12h"), (1800, "30m"), (90, "90s")],
)
def test_ages_are_described_as_the_setting_is_written(seconds: int, text: str) -> None:
    assert describe_age(seconds) == text


def test_a_download_is_held_by_its_file_or_by_the_file_its_metadata_belongs_to() -> None:
    new = file("demo-2.0-py3-none-any.whl", "2026-12-09T12:00:00Z")
    old = file("demo-1.0-py3-none-any.whl", "2026-11-01T12:00:00Z")
    listing = UpstreamListing(("1.0", "2.0"), (old, new))
    policy = Policy(min_age_seconds=WEEK)
    assert policy.held_file(listing, old.filename, NOW) is None
    assert policy.held_file(listing, old.filename + ".metadata", NOW) is None
    assert policy.held_file(listing, new.filename + ".metadata", NOW) is not None
    gone = policy.held_file(listing, "demo-0.1.tar.gz", NOW)
    assert gone is not None
    assert "no longer lists it" in gone
    assert policy.held_file(None, old.filename, NOW) is not None
    assert Policy().held_file(None, old.filename, NOW) is None
