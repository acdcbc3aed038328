"""The per-worker memory of upstream files served lately, which throttles their use writes."""

from __future__ import annotations

from wheelyard.services.upstream.recent_use import RecentUse


def test_a_use_is_due_once_per_interval_and_again_when_forgotten() -> None:
    recent = RecentUse(interval=3600)
    assert not recent.cleared("a.whl")
    assert recent.due("a.whl")
    assert recent.cleared("a.whl")
    assert not recent.due("a.whl")
    recent.forget("a.whl")
    assert recent.due("a.whl")


def test_a_zero_interval_writes_every_use() -> None:
    recent = RecentUse(interval=0)
    assert recent.due("a.whl")
    assert recent.due("a.whl")


def test_the_memory_is_bounded_and_forgets_the_oldest() -> None:
    recent = RecentUse(interval=3600, size=2)
    for name in ("a", "b", "c"):
        assert recent.due(name)
    assert not recent.cleared("a")
    assert recent.cleared("b") and recent.cleared("c")
