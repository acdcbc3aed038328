"""The services' wall clock: every reading from one source, which tests set."""

from __future__ import annotations

import datetime as dt
import time

from tests.helpers.clock import WallClock
from wheelyard.services import clock

LEAP_NIGHT = dt.datetime(2024, 2, 29, 23, 59, 30)


def test_every_reading_comes_from_the_one_source(frozen_clock: WallClock) -> None:
    frozen_clock.set(LEAP_NIGHT)
    assert clock.now() == LEAP_NIGHT
    assert clock.now().tzinfo is None  # naive UTC, as the timestamp columns hold it
    assert clock.aware_now() == LEAP_NIGHT.replace(tzinfo=dt.UTC)
    assert clock.today() == dt.date(2024, 2, 29)
    assert clock.timestamp() == LEAP_NIGHT.replace(tzinfo=dt.UTC).timestamp()

    frozen_clock.advance(dt.timedelta(seconds=30))
    assert clock.today() == dt.date(2024, 3, 1)
    assert clock.now() == clock.start_of(dt.date(2024, 3, 1))


def test_a_source_in_another_zone_reads_as_utc() -> None:
    east = dt.timezone(dt.timedelta(hours=2))
    previous = clock.set_source(lambda: dt.datetime(2024, 1, 1, 1, 0, tzinfo=east))
    try:
        assert clock.now() == dt.datetime(2023, 12, 31, 23, 0)
        assert clock.today() == dt.date(2023, 12, 31)
    finally:
        assert clock.set_source(previous) is not previous


def test_unset_it_is_the_system_clock() -> None:
    assert abs(clock.timestamp() - time.time()) < 5
    assert abs(clock.now() - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(5)
