"""Clocks a test moves by hand: ``Clock`` for code that takes ``clock=`` (caches, listings),
``WallClock`` for the services' wall clock (``frozen_clock`` in conftest.py installs one)."""

from __future__ import annotations

import datetime as dt


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class WallClock:
    """A source for ``wheelyard.services.clock`` that stands still at ``at`` until moved.

    Naive times are taken as UTC, the convention of every timestamp in wheelyard.
    """

    def __init__(self, at: dt.datetime) -> None:
        self.at = _utc(at)

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = _utc(at)

    def set_day(self, day: dt.date) -> None:
        """Noon of ``day``: well inside it whatever a test adds or takes away."""
        self.set(dt.datetime.combine(day, dt.time(12)))

    def advance(self, by: dt.timedelta) -> None:
        self.at += by


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
