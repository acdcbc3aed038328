"""XML-RPC calls per client: a sliding window each, in a table of bounded size."""

from __future__ import annotations

import datetime as dt

from wheelyard.services.accounts.rate_limit import Limit
from wheelyard.services.xmlrpc import throttle
from wheelyard.services.xmlrpc.throttle import CallThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_per_client_then_the_wait_then_calls_again() -> None:
    clock = Clock()
    limiter = CallThrottle(Limit(attempts=3, window=dt.timedelta(minutes=1)), clock)
    assert [limiter.refuse("10.0.0.1") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.refuse("10.0.0.1") == 40
    # Another client is not held back by the first.
    assert limiter.refuse("10.0.0.2") is None
    clock.now += 40
    assert limiter.refuse("10.0.0.1") is None


def test_zero_means_no_limit() -> None:
    limiter = CallThrottle(Limit(attempts=0, window=dt.timedelta(minutes=1)))
    assert all(limiter.refuse("x") is None for _ in range(1000))


def test_the_table_of_clients_is_bounded() -> None:
    limiter = CallThrottle(Limit(attempts=1, window=dt.timedelta(minutes=1)), Clock())
    for n in range(throttle.MAX_CLIENTS + 50):
        limiter.refuse(f"client-{n}")
    assert len(limiter._calls) == throttle.MAX_CLIENTS
    # The oldest were forgotten: the first client may call again.
    assert limiter.refuse("client-0") is None
