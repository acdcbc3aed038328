"""Calls per client: a sliding window per client address, kept in the worker's memory.

The login limits (services/accounts/rate_limit.py) count audit rows, which are shared by
every worker; that suits guesses at a password, each of which is a security event written
anyway. An XML-RPC call is no such event, and writing a row for each would make every
read a write. So the same kind of ``Limit`` is counted here, in memory: each worker allows
the limit on its own (a server of N workers allows up to N times it), which still stops one
client from hammering the API. The table of clients is bounded, oldest first out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from wheelyard.services.accounts.rate_limit import Limit

# Clients remembered at once; past this the one seen longest ago is forgotten.
MAX_CLIENTS = 10_000


class CallThrottle:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def refuse(self, client: str | None) -> int | None:
        """Seconds until ``client`` may call again, or None (the call is counted) when it may
        now. Limits of 0 attempts mean no limit."""
        if self.limit.attempts <= 0:
            return None
        key = client or ""
        now = self.clock()
        window = self.limit.window.total_seconds()
        with self._lock:
            calls = self._calls.pop(key, None)
            if calls is None:
                calls = deque()
            while calls and calls[0] <= now - window:
                calls.popleft()
            self._calls[key] = calls
            while len(self._calls) > MAX_CLIENTS:
                self._calls.popitem(last=False)
            if len(calls) >= self.limit.attempts:
                return max(1, int(calls[0] + window - now + 0.999))
            calls.append(now)
            return None
