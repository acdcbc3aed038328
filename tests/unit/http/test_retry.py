from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from wheelyard.http import retry
from wheelyard.http.retry import Contended, retry_collisions


@pytest.fixture(autouse=True)
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The attempts after which the helper paused (without sleeping)."""
    seen: list[int] = []
    monkeypatch.setattr(retry, "pause", seen.append)
    return seen


def taken_key() -> sa.exc.IntegrityError:
    return sa.exc.IntegrityError("INSERT INTO packages", {}, Exception("unique violation"))


def locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE packages", {}, Exception("database is locked"))


def gone() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)


def failing(*errors: Exception) -> Callable[[], str]:
    """Work that raises ``errors`` one per call, then succeeds."""
    pending = list(errors)

    def work() -> str:
        if pending:
            raise pending.pop(0)
        return "done"

    return work


def test_work_that_collides_runs_again_after_a_pause(pauses: list[int]) -> None:
    work = failing(taken_key(), locked())
    assert retry_collisions(work, attempts=3, what="test") == "done"
    assert pauses == [1, 2]


def test_work_that_always_collides_is_contended(pauses: list[int]) -> None:
    work = failing(*(locked() for _ in range(3)))
    with pytest.raises(Contended):
        retry_collisions(work, attempts=3, what="test")
    assert pauses == [1, 2, 3]


def test_a_database_out_of_reach_is_no_collision(pauses: list[int]) -> None:
    with pytest.raises(sa.exc.OperationalError):
        retry_collisions(failing(gone()), attempts=3, what="test")
    assert pauses == []


def test_only_the_named_errors_are_collisions(pauses: list[int]) -> None:
    work = failing(taken_key())
    with pytest.raises(sa.exc.IntegrityError):
        retry_collisions(work, attempts=3, what="test", collisions=(sa.exc.OperationalError,))
    with pytest.raises(ValueError, match="not ours"):
        retry_collisions(failing(ValueError("not ours")), attempts=3, what="test")
    assert pauses == []
