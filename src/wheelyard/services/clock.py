"""The wall clock: what time it is, for every service, from one source that tests can set.

Services never call ``datetime.now`` or ``time.time`` themselves. Reading the time here
means a test that stops or moves the clock (``set_source``; the suite's ``frozen_clock``
fixture) moves it for every service at once: a token's ``last_used``, a download's
``created_date`` and the day the stats end on all agree.

Two clocks are not this one, on purpose. The database's own (``data.modelbase.utcnow``)
stamps the rows it defaults, and what is compared with those rows (the rate limits) reads
it too. Monotonic timers (``time.monotonic``: cache ages, pauses) measure intervals and
must not jump when the wall clock is set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# A source answers "what time is it" as an aware datetime; every reader converts to UTC.
Source = Callable[[], dt.datetime]


def system_time() -> dt.datetime:
    """The real time: the source unless a test has set another."""
    return dt.datetime.now(dt.UTC)


_source: Source = system_time


def set_source(source: Source) -> Source:
    """Read the time from ``source`` from now on; returns the source it replaces."""
    global _source
    previous, _source = _source, source
    return previous


def aware_now() -> dt.datetime:
    """The current time in UTC, timezone-aware: for comparing with files' modification times."""
    return _source().astimezone(dt.UTC)


def now() -> dt.datetime:
    """The current time as naive UTC, the convention of every timestamp column."""
    return aware_now().replace(tzinfo=None)


def today() -> dt.date:
    """The current UTC calendar day: the day a download counts on."""
    return aware_now().date()


def timestamp() -> float:
    """Seconds since the epoch, as ``time.time()`` gives them (TOTP time steps)."""
    return aware_now().timestamp()


def start_of(day: dt.date) -> dt.datetime:
    """The first moment of a UTC day, as naive UTC like ``now()``."""
    return dt.datetime.combine(day, dt.time())
