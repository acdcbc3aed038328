"""Per worker: the cached upstream files served lately, so their use is written rarely.

Cache eviction (``wheelyard cache prune``) needs when each file was last downloaded, but a
write per download would put the database's write lock on the hot path. A worker writes a
file's use when it first serves it and then at most once per ``interval`` seconds; eviction
counts in days, so a use is never more than minutes out of date.

A file found here has also passed the worker's policy check (services/upstream/policy.py):
settings are fixed for a process and a cooldown only ever ends, so a file once served stays
servable, and its check need not be repeated.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

# Minutes, not seconds: eviction counts in days.
USE_WRITE_INTERVAL = 600.0
# Files remembered per worker; the oldest are forgotten (and written again when next served).
MAX_REMEMBERED = 65536


class RecentUse:
    def __init__(self, interval: float = USE_WRITE_INTERVAL, size: int = MAX_REMEMBERED) -> None:
        self.interval = interval
        self.size = size
        self._written: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def cleared(self, filename: str) -> bool:
        """Whether this worker has served the file before (and so checked it)."""
        with self._lock:
            return filename in self._written

    def due(self, filename: str) -> bool:
        """Whether serving the file now should write its use; if so, counted as written."""
        now = time.monotonic()
        with self._lock:
            last = self._written.get(filename)
            if last is not None and now - last < self.interval:
                return False
            self._written[filename] = now
            self._written.move_to_end(filename)
            while len(self._written) > self.size:
                self._written.popitem(last=False)
            return True

    def forget(self, filename: str) -> None:
        """The file left the cache: the next download checks and writes again."""
        with self._lock:
            self._written.pop(filename, None)
