"""Driving a server with wrk and reading back what it measured."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import net

LUA = Path(__file__).resolve().parent / "lua"
# Long enough that a slow peer's queueing shows up as latency rather than as timeouts.
TIMEOUT = "30s"


@dataclass(frozen=True)
class Load:
    """How hard and how long: the same for every server in one run."""

    threads: int
    connections: int
    duration: float  # seconds measured per round
    rounds: int  # measurements per server and URL, interleaved with the other servers'
    warmup: float  # seconds of the same load, discarded, before a server's first round


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bytes_per_response: float
    non_2xx: int  # wrk counts 4xx/5xx answers as "status errors"
    socket_errors: int
    p95_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine(rounds: Sequence[WrkResult]) -> WrkResult:
    """One result from several rounds of the same measurement.

    Rates add up over the total time; each latency percentile is the median of the rounds'
    (a round that met a burst of background load moves it less than it would a mean).
    """
    if not rounds:
        raise ValueError("nothing to combine")
    requests = sum(r.requests for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    return WrkResult(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p90_ms=statistics.median(r.p90_ms for r in rounds),
        p95_ms=statistics.median(r.p95_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        mean_ms=sum(r.mean_ms * r.requests for r in rounds) / requests if requests else 0.0,
        max_ms=max(r.max_ms for r in rounds),
        bytes_per_response=(
            sum(r.bytes_per_response * r.requests for r in rounds) / requests if requests else 0.0
        ),
        non_2xx=sum(r.non_2xx for r in rounds),
        socket_errors=sum(r.socket_errors for r in rounds),
    )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def _argv(load: Load, url: str, seconds: float, headers: Mapping[str, str]) -> list[str]:
    argv = [
        wrk_binary(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={TIMEOUT}",
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    return argv


def _tagged_json(output: str, tag: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith(tag + " "):
            parsed: dict[str, Any] = json.loads(line.removeprefix(tag + " "))
            return parsed
    raise RuntimeError(f"wrk printed no {tag} line:\n{output}")


def _run(argv: list[str], seconds: float) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def drain(url: str, headers: Mapping[str, str]) -> None:
    """Return once one more request is answered.

    wrk hangs up on what is still queued when it stops, but a server with a single worker
    (pypiserver under gunicorn's sync worker) still answers every queued request first: the
    next run would wait behind them. One answered request means the queue is empty again.
    """
    net.get(url, headers, timeout=900)


def measure(
    load: Load,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    warm_up: bool = True,
    script: str = "report.lua",
    script_args: Sequence[str] = (),
) -> WrkResult:
    """One round on ``url`` (after a warm-up if asked); wrk's numbers, read from report.lua.

    ``script`` may be another script of lua/ that reports through report.lua (one that picks
    the paths, say); ``script_args`` go to its init().
    """
    headers = headers or {}
    drain(url, headers)
    extra = ["--", *script_args] if script_args else []
    if warm_up and load.warmup > 0:
        warm = [*_argv(load, url, load.warmup, headers), "-s", str(LUA / script), url, *extra]
        _run(warm, load.warmup)
        drain(url, headers)
    argv = [*_argv(load, url, load.duration, headers), "-s", str(LUA / script), url, *extra]
    raw = _tagged_json(_run(argv, load.duration), "WRK_RESULT")
    seconds = raw["duration_us"] / 1e6
    requests = raw["requests"]
    return WrkResult(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        bytes_per_response=raw["bytes"] / requests if requests else 0.0,
        non_2xx=raw["status_errors"],
        socket_errors=raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeouts"],
    )


@dataclass(frozen=True)
class Counted:
    """What counted_downloads.lua saw: downloads asked for and answered with 200."""

    budget: int
    issued: int
    ok: int
    missed: int
    other: int
    socket_errors: int

    @property
    def complete(self) -> bool:
        """Every download asked for was answered, so none was in flight at the end."""
        return self.issued == self.budget and self.ok == self.budget and self.other == 0


def counted_downloads(
    load: Load,
    seconds: float,
    base_url: str,
    download_path: str,
    miss_path: str,
    budget_per_thread: int,
) -> Counted:
    """Download a file exactly ``budget_per_thread`` times per wrk thread (see the Lua script)."""
    argv = [
        *_argv(load, base_url, seconds, {}),
        "-s",
        str(LUA / "counted_downloads.lua"),
        base_url,
        "--",
        str(budget_per_thread),
        download_path,
        miss_path,
    ]
    raw = _tagged_json(_run(argv, seconds), "WRK_COUNTS")
    return Counted(**raw)
