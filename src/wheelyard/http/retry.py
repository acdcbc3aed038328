"""Retrying a request's database work that lost a race with a concurrent writer.

Two requests racing to create the same rows (a project, a release) both read that the rows
are missing; the loser's insert then breaks a unique key. On SQLite, a transaction that read
before another writer committed cannot write at all. Either way the loser's work is sound: run
again, in a fresh transaction, it sees the winner's rows. A database that cannot be reached is
no collision: retrying at once is no use, and the app answers 503.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from wheelyard.data.db_session import database_unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# A unique key a concurrent request took first, or SQLite refusing a second writer.
COLLISIONS: tuple[type[sa.exc.DBAPIError], ...] = (sa.exc.IntegrityError, sa.exc.OperationalError)


class Contended(Exception):
    """Every attempt collided with a concurrent writer."""


def retry_collisions(
    work: Callable[[], T],
    *,
    attempts: int,
    what: str,
    collisions: tuple[type[sa.exc.DBAPIError], ...] = COLLISIONS,
) -> T:
    """``work()``, run again after each collision, at most ``attempts`` times; Contended
    when none got through. ``work`` must open its own transaction, so that each try starts
    from what the winner committed. ``what`` names the work in the log."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except collisions as error:
            if database_unavailable(error):
                raise
            log.info("%s collided (attempt %d): %s", what, attempt, error)
            pause(attempt)
    raise Contended(what)


def pause(attempt: int) -> None:
    """Longer after each collision, and jittered, so that racers part ways."""
    time.sleep(random.uniform(0.05, 0.2) * attempt)
