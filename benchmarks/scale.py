"""``make bench-scale``: wheelyard's pages at PyPI's size, against the scale bars.

    .venv/bin/python -m benchmarks.scale \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/wheelyard_scale

The database is one ``benchmarks/generate_scale.py`` filled (or any big wheelyard database);
nothing is written to it, so the run can be repeated as often as wanted. ``wheelyard serve``
(``--wheelyard-bin``, by default this checkout's) starts with its defaults on it, with an empty
storage directory (no page timed here opens a file).

Measured, in this order:

1. ``/simple/`` (HTML, then JSON) right after the start, before anything warmed a cache: time
   to the first and to the last byte, streamed to completion; then three more times each (a
   worker that has not answered it yet is still cold: each worker keeps its own copy).
2. At ``--connections`` (8) with wrk, after a warm-up at the same load: the home page; a
   project page, the JSON API and the per-project simple page (HTML and JSON) of random
   projects (``--names`` of them, drawn from the database; random_paths.lua picks one per
   request); search for random realistic queries (common and rare words, two words, exact
   names, from generate_projects' vocabulary), and the same one connection at a time; for
   the most downloaded project its stats page and the pypistats API (overall, recent,
   python_minor, system); the site's ``/stats/``.
3. The resident memory (RSS) of every server process, sampled every half second over the
   whole run: the largest a worker reached.

Bars: p95 <= 50 ms for the pages and search; <= 100 ms for the download counts (stats); the
whole ``/simple/`` listing in <= 2 s; <= 500 MB per worker. Non-2xx answers fail a bar, and
so does a row where no request was answered within the run. "CPU ms" is the CPU time per
request of the server's processes and of the PostgreSQL backends of its database.
Prints one table (and writes it as JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa

from benchmarks import load, net
from benchmarks.generate_projects import HEAD_WORDS, Vocabulary
from benchmarks.peers import HTML, SIMPLE_JSON, Process

REPO = Path(__file__).resolve().parent.parent
PAGE_BAR_MS = 50.0
STATS_BAR_MS = 100.0
LISTING_BAR_S = 2.0
RSS_BAR_MB = 500.0
STATS_KINDS = ("overall", "recent", "python_minor", "system")
# Set once the server runs; every wrk row reads it.
METER: CpuMeter | None = None


@dataclass(frozen=True)
class Row:
    what: str
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rps: float | None
    errors: int
    # CPU time per request of the server's processes and of the database server's processes
    # serving its database: unlike latency, it does not grow while other programs keep the
    # CPUs busy, so it tells what a request costs on a shared machine.
    cpu_ms: float | None
    measured: str  # the figure held against the bar, as shown
    bar: str
    met: bool


# --- what to ask for ----------------------------------------------------------------------


def sample_names(engine: sa.Engine, count: int) -> list[str]:
    with engine.connect() as connection:
        names = connection.scalars(
            sa.text("SELECT id FROM packages ORDER BY random() LIMIT :n"), {"n": count}
        ).all()
    if not names:
        sys.exit("the database has no projects; fill it with benchmarks/generate_scale.py")
    return list(names)


def most_downloaded(engine: sa.Engine) -> str | None:
    """The project with the most downloads (mirrors apart), from the daily rollups."""
    with engine.connect() as connection:
        found: str | None = connection.scalar(
            sa.text(
                "SELECT package_id FROM download_counts WHERE NOT is_mirror"
                " GROUP BY package_id ORDER BY sum(downloads) DESC LIMIT 1"
            )
        )
    return found


def search_queries(names: Sequence[str], seed: int, count: int = 200) -> list[str]:
    """Common words, rare words, two-word queries and exact names, in equal parts."""
    rng = random.Random(seed)
    vocabulary = Vocabulary(random.Random(seed))
    head = len(HEAD_WORDS)
    quarter = count // 4
    return [
        *rng.choices(HEAD_WORDS[:40], k=quarter),
        *rng.choices(vocabulary.words[head + 20_000 :], k=quarter),
        *(
            f"{a} {b}"
            for a, b in zip(
                rng.choices(HEAD_WORDS, k=quarter),
                rng.choices(vocabulary.words[:2000], k=quarter),
                strict=True,
            )
        ),
        *rng.sample(list(names), min(quarter, len(names))),
    ]


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --- the server, its memory and its CPU time ------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    # The fields after the ")" that closes the command name: state ppid pgrp session ...
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


class CpuMeter:
    """CPU seconds used so far by the server's session and the PostgreSQL backends of its
    database (found by their process titles, "postgres: ... <database> ...")."""

    def __init__(self, session: int, database: str | None) -> None:
        self.session = session
        self.database = database

    def _counts(self, pid: str) -> bool:
        try:
            if int(_stat_fields(pid)[3]) == self.session:
                return True
            if self.database is None:
                return False
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            return False
        return title.startswith("postgres: ") and f" {self.database} " in title

    def seconds(self) -> float:
        ticks = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self._counts(entry.name):
                try:
                    fields = _stat_fields(entry.name)
                    ticks += int(fields[11]) + int(fields[12])  # utime, stime
                except (OSError, IndexError, ValueError):
                    continue
        return ticks / TICKS


class RssSampler:
    """Largest resident set of each process of the server's session, sampled in a thread."""

    def __init__(self, session: int, every: float = 0.5) -> None:
        self.session = session
        self.every = every
        self.peak_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _members(self) -> Iterator[int]:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if int(_stat_fields(entry.name)[3]) == self.session:
                    yield int(entry.name)
            except (OSError, IndexError, ValueError):
                continue

    def sample(self) -> None:
        for pid in self._members():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    kb = int(line.split()[1])
                    self.peak_kb[pid] = max(kb, self.peak_kb.get(pid, 0))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def worker_peak_mb(self) -> tuple[float, float]:
        """(largest worker, the leader) in MB; workers are every process but the leader."""
        workers = [kb for pid, kb in self.peak_kb.items() if pid != self.session]
        return max(workers, default=0) / 1024, self.peak_kb.get(self.session, 0) / 1024


@contextmanager
def served(wheelyard_bin: Path, database_url: str, port: int, work: Path) -> Iterator[Process]:
    env = {
        **os.environ,
        "WHEELYARD_DATABASE_URL": database_url,
        "WHEELYARD_VAR_DIR": str(work / "var"),
        "WHEELYARD_STORAGE_PATH": str(work / "files"),
        # The runs upload whole datasets at once: no per-account upload limits.
        "WHEELYARD_UPLOAD_FILES_PER_MINUTE": "0",
        "WHEELYARD_NEW_PROJECTS_PER_HOUR": "0",
    }
    argv = [str(wheelyard_bin), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = Process(argv, work / "serve.log", env=env, cwd=work)
    popen = process.start()
    try:
        # The health of the process, not of a page: the first /simple/ must be the cold one.
        net.wait_for(f"http://127.0.0.1:{port}/nothing-here", popen, 300, "wheelyard serve")
        yield process
    finally:
        process.stop()


# --- measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Streamed:
    status: int
    first_byte_s: float
    last_byte_s: float
    size: int


def stream(url: str, headers: dict[str, str]) -> Streamed:
    """GET ``url`` and read the body to its end in chunks, timing the first and last byte."""
    parts = url.split("/", 3)
    host, port = parts[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    started = time.perf_counter()
    try:
        connection.request("GET", "/" + parts[3], headers=headers)
        response = connection.getresponse()
        first = response.read(1)
        first_byte = time.perf_counter() - started
        size = len(first)
        while chunk := response.read(1 << 16):
            size += len(chunk)
        return Streamed(response.status, first_byte, time.perf_counter() - started, size)
    finally:
        connection.close()


def listing_rows(base_url: str) -> list[Row]:
    rows = []
    for label, headers in (("HTML", HTML), ("JSON", SIMPLE_JSON)):
        # Each worker builds its own copy on its first request: the first request is cold,
        # the next ones may still meet a worker that has not built it yet.
        for attempt in ("1st, cold", "2nd", "3rd", "4th"):
            got = stream(f"{base_url}/simple/", headers)
            ok = got.status == 200 and got.last_byte_s <= LISTING_BAR_S
            rows.append(
                Row(
                    what=f"/simple/ {label} {attempt} ({got.size / 1e6:.0f} MB,"
                    f" first byte {got.first_byte_s * 1000:.0f} ms)",
                    p50_ms=None,
                    p95_ms=None,
                    p99_ms=None,
                    rps=None,
                    errors=0 if got.status == 200 else 1,
                    cpu_ms=None,
                    measured=f"{got.last_byte_s:.2f} s",
                    bar=f"<= {LISTING_BAR_S:g} s",
                    met=ok,
                )
            )
            print(f"  {rows[-1].what}: {rows[-1].measured}", file=sys.stderr, flush=True)
    return rows


def wrk_row(
    what: str,
    bar_ms: float,
    run: load.Load,
    url: str,
    headers: dict[str, str] | None = None,
    script: tuple[Path, str] | None = None,
) -> Row:
    assert METER is not None
    used: list[float] = []
    if script is None:
        wrk_script, wrk_args = "report.lua", []
    else:
        wrk_script, wrk_args = "random_paths.lua", [str(script[0]), script[1]]
    if run.warmup > 0:
        # The warm-up apart, so that the CPU time counted is the measured round's.
        warm_up = replace(run, duration=run.warmup)
        load.measure(
            warm_up, url, headers or {}, warm_up=False, script=wrk_script, script_args=wrk_args
        )
    used.append(METER.seconds())
    result = load.measure(
        run, url, headers or {}, warm_up=False, script=wrk_script, script_args=wrk_args
    )
    used.append(METER.seconds())
    errors = result.non_2xx + result.socket_errors
    answered = result.requests > 0
    row = Row(
        what=what,
        p50_ms=result.p50_ms if answered else None,
        p95_ms=result.p95_ms if answered else None,
        p99_ms=result.p99_ms if answered else None,
        rps=result.rps,
        errors=errors,
        cpu_ms=(used[1] - used[0]) * 1000 / result.requests if answered else None,
        # No answer at all within the run: slower than the run is long.
        measured=f"p95 {result.p95_ms:.1f} ms" if answered else f"none in {run.duration:g} s",
        bar=f"p95 <= {bar_ms:g} ms",
        met=answered and result.p95_ms <= bar_ms and errors == 0,
    )
    print(
        f"  {what}: {row.measured}, {row.rps:.0f} req/s, {errors} errors",
        file=sys.stderr,
        flush=True,
    )
    return row


def page_rows(
    base_url: str,
    run: load.Load,
    work: Path,
    names: Sequence[str],
    queries: Sequence[str],
    top: str,
) -> list[Row]:
    names_file = write_lines(work / "names.txt", [quote(name, safe="") for name in names])
    queries_file = write_lines(work / "queries.txt", [quote_plus(q) for q in queries])
    rows = [
        wrk_row("home page /", PAGE_BAR_MS, run, f"{base_url}/"),
        wrk_row(
            "project page (random)", PAGE_BAR_MS, run, base_url, script=(names_file, "/project/%s/")
        ),
        wrk_row(
            "JSON API (random)", PAGE_BAR_MS, run, base_url, script=(names_file, "/pypi/%s/json")
        ),
        wrk_row(
            "simple page HTML (random)",
            PAGE_BAR_MS,
            run,
            base_url,
            HTML,
            script=(names_file, "/simple/%s/"),
        ),
        wrk_row(
            "simple page JSON (random)",
            PAGE_BAR_MS,
            run,
            base_url,
            SIMPLE_JSON,
            script=(names_file, "/simple/%s/"),
        ),
        wrk_row(
            "search (random queries)",
            PAGE_BAR_MS,
            run,
            base_url,
            script=(queries_file, "/search?q=%s"),
        ),
        # Issue 5's search bar names no concurrency (issue 4's list at 8 leaves search out):
        # the same queries one at a time, beside the row above.
        wrk_row(
            "search (random queries), 1 connection",
            PAGE_BAR_MS,
            replace(run, threads=1, connections=1),
            base_url,
            script=(queries_file, "/search?q=%s"),
        ),
        wrk_row(
            f"project stats page ({top})",
            STATS_BAR_MS,
            run,
            f"{base_url}/project/{quote(top)}/stats/",
        ),
    ]
    rows += [
        wrk_row(
            f"/api/packages/{top}/{kind}",
            STATS_BAR_MS,
            run,
            f"{base_url}/api/packages/{quote(top)}/{kind}",
        )
        for kind in STATS_KINDS
    ]
    rows.append(wrk_row("site stats /stats/", STATS_BAR_MS, run, f"{base_url}/stats/"))
    return rows


def print_table(title: str, rows: Sequence[Row]) -> None:
    print(title)
    print(
        f"{'':58}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>8}{'CPU ms':>9}{'errors':>7}"
        f"  {'bar':<15}result"
    )
    for row in rows:
        figures = "".join(
            f"{value:9.1f}" if value is not None else f"{'':9}"
            for value in (row.p50_ms, row.p95_ms, row.p99_ms)
        )
        cpu = f"{row.cpu_ms:9.1f}" if row.cpu_ms is not None else f"{'':9}"
        rate = f"{row.rps:8.0f}" if row.rps is not None else f"{'':8}"
        verdict = "MET" if row.met else "NOT MET"
        print(
            f"{row.what[:57]:<58}{figures}{rate}{cpu}{row.errors:7d}  {row.bar:<15}"
            f"{verdict} ({row.measured})"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--wheelyard-bin", type=Path, default=REPO / ".venv" / "bin" / "wheelyard")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before each")
    parser.add_argument("--names", type=int, default=5000, help="random projects to ask for")
    parser.add_argument("--top-project", help="skip finding the most downloaded project")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    engine = sa.create_engine(options.database_url)
    try:
        names = sample_names(engine, options.names)
        top = options.top_project or most_downloaded(engine) or names[0]
        with engine.connect() as connection:
            projects = connection.scalar(sa.text("SELECT count(*) FROM packages")) or 0
    finally:
        engine.dispose()
    queries = search_queries(names, options.seed)
    run = load.Load(
        threads=options.threads,
        connections=options.connections,
        duration=options.duration,
        rounds=1,
        warmup=options.warmup,
    )
    port = options.port or net.free_port()
    base_url = f"http://127.0.0.1:{port}"
    print(
        f"{projects:,} projects; most downloaded: {top}; serving on {base_url}",
        file=sys.stderr,
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="wheelyard-scale-") as scratch:
        work = Path(scratch)
        with served(options.wheelyard_bin, options.database_url, port, work) as process:
            assert process.popen is not None
            sampler = RssSampler(process.popen.pid)
            sampler.start()
            global METER
            METER = CpuMeter(
                process.popen.pid,
                sa.make_url(options.database_url).database
                if options.database_url.startswith("postgresql")
                else None,
            )
            try:
                rows = listing_rows(base_url)
                rows += page_rows(base_url, run, work, names, queries, top)
            finally:
                sampler.stop()
            sampler.sample()
    worker_mb, leader_mb = sampler.worker_peak_mb()
    rows.append(
        Row(
            what=f"RSS per worker, max over the run (leader {leader_mb:.0f} MB)",
            p50_ms=None,
            p95_ms=None,
            p99_ms=None,
            rps=None,
            errors=0,
            cpu_ms=None,
            measured=f"{worker_mb:.0f} MB",
            bar=f"<= {RSS_BAR_MB:g} MB",
            met=0 < worker_mb <= RSS_BAR_MB,
        )
    )
    dialect = options.database_url.split(":", 1)[0].split("+", 1)[0]
    title = (
        f"wheelyard at scale: {dialect}, {projects:,} projects, {options.connections}"
        f" connections, {options.duration:g} s per row after {options.warmup:g} s warm-up;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print_table(title, rows)
    if options.json:
        document: dict[str, Any] = {"title": title, "rows": [asdict(row) for row in rows]}
        options.json.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
