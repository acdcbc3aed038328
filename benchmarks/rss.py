"""Resident memory of a server and all its processes, read from ``/proc`` (Linux only).

granian's main process starts one worker process per core; a leak shows in a worker, so the
soak samples every process of the tree, not only the one it started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    parent: int
    rss_kib: int
    cpu_seconds: float  # user and system time since the process started
    threads: int
    command: str


@dataclass(frozen=True)
class Sample:
    """The processes of one tree at one moment, ``seconds`` after the load started."""

    seconds: float
    processes: tuple[ProcessMemory, ...]

    @property
    def total_kib(self) -> int:
        return sum(p.rss_kib for p in self.processes)

    @property
    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds for p in self.processes)

    def of(self, pid: int) -> ProcessMemory | None:
        return next((p for p in self.processes if p.pid == pid), None)


def _status_number(status: str, key: str) -> int | None:
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def parse_vmrss(status: str) -> int | None:
    """The ``VmRSS`` line of a ``/proc/<pid>/status`` text, in KiB (absent for zombies)."""
    return _status_number(status, "VmRSS")


def parse_threads(status: str) -> int:
    """The number of threads, from a ``/proc/<pid>/status`` text."""
    return _status_number(status, "Threads") or 0


def _fields_after_command(stat: str) -> list[str]:
    # The command sits in parentheses and may hold spaces and parentheses itself.
    return stat.rsplit(")", 1)[1].split()


def parse_parent(stat: str) -> int:
    """The parent pid from a ``/proc/<pid>/stat`` line."""
    return int(_fields_after_command(stat)[1])


def parse_cpu_ticks(stat: str) -> int:
    """User plus system time from a ``/proc/<pid>/stat`` line, in clock ticks."""
    fields = _fields_after_command(stat)
    # Fields 14 and 15 of the line (utime, stime); the list starts at field 3 (state).
    return int(fields[11]) + int(fields[12])


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """``root`` and every process below it, given each process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(sorted(children.get(pid, [])))
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:  # the process ended between the listing and the read
        return None


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit() and (stat := _read(PROC / entry.name / "stat")) is not None:
            parents[int(entry.name)] = parse_parent(stat)
    return parents


def sample(root: int, seconds: float) -> Sample:
    """The resident memory of ``root``'s process tree now."""
    processes = []
    for pid in descendants(root, _parents()):
        status = _read(PROC / str(pid) / "status")
        rss = parse_vmrss(status) if status is not None else None
        if status is None or rss is None:
            continue
        stat = _read(PROC / str(pid) / "stat")
        if stat is None:
            continue
        raw_command = _read(PROC / str(pid) / "cmdline") or ""
        command = " ".join(raw_command.split("\0")).strip()
        cpu = parse_cpu_ticks(stat) / TICKS_PER_SECOND
        processes.append(
            ProcessMemory(pid, parse_parent(stat), rss, cpu, parse_threads(status), command)
        )
    return Sample(seconds, tuple(processes))


def growth_percent(before: int, after: int) -> float:
    """How much ``after`` is above ``before``, in percent of ``before``."""
    if before <= 0:
        raise ValueError("growth is measured from a positive size")
    return (after - before) * 100.0 / before
