from __future__ import annotations

import threading
import time
from pathlib import Path

from wheelyard.services.upstream.fetch_lock import SLOTS, fetching, slot_path


def test_a_filename_always_takes_the_same_one_of_a_bounded_set_of_slots(tmp_path: Path) -> None:
    names = [f"lib_{n}-1.0-py3-none-any.whl" for n in range(2000)]
    slots = {slot_path(tmp_path, name) for name in names}
    assert len(slots) <= SLOTS
    assert slot_path(tmp_path, names[0]) == slot_path(tmp_path, names[0])


def test_a_second_fetch_of_a_file_waits_for_the_first(tmp_path: Path) -> None:
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with fetching(tmp_path, "demo-1.0.tar.gz"):
            first_in.set()
            time.sleep(0.3)
            order.append("first done")

    def second() -> None:
        first_in.wait()
        with fetching(tmp_path, "demo-1.0.tar.gz"):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second in"]


def test_without_a_var_directory_nothing_is_locked() -> None:
    with fetching(None, "demo-1.0.tar.gz"), fetching(None, "demo-1.0.tar.gz"):
        pass
