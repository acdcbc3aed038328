from __future__ import annotations

import os
import subprocess
import sys

import pytest
from benchmarks import rss

STATUS = "Name:\tpython\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n"


def test_vmrss_is_read_in_kib() -> None:
    assert rss.parse_vmrss(STATUS) == 12345


def test_a_zombie_has_no_vmrss() -> None:
    assert rss.parse_vmrss("Name:\tpython\nState:\tZ (zombie)\n") is None


def test_parent_survives_spaces_and_parentheses_in_the_command() -> None:
    assert rss.parse_parent("4242 (a (weird) name) S 17 4242 4242 0 -1") == 17


def test_descendants_walks_the_whole_tree_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1}
    assert sorted(rss.descendants(10, parents)) == [10, 11, 12, 13]


def test_growth_is_relative_to_the_baseline() -> None:
    assert rss.growth_percent(200, 210) == pytest.approx(5.0)
    assert rss.growth_percent(200, 190) == pytest.approx(-5.0)
    with pytest.raises(ValueError, match="positive"):
        rss.growth_percent(0, 10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_sample_holds_this_process_and_its_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sample = rss.sample(os.getpid(), 1.5)
    finally:
        child.kill()
        child.wait()
    mine, theirs = sample.of(os.getpid()), sample.of(child.pid)
    assert mine is not None and theirs is not None
    assert theirs.parent == os.getpid()
    assert mine.rss_kib > 0 and theirs.rss_kib > 0
    assert sample.total_kib >= mine.rss_kib + theirs.rss_kib


def test_cpu_time_is_user_plus_system_ticks() -> None:
    stat = "99 (x y) S 1 99 99 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 117310 3133440 382"
    assert rss.parse_cpu_ticks(stat) == 300


def test_threads_are_counted() -> None:
    assert rss.parse_threads(STATUS) == 7
