"""``make bench-upstream``: wheelyard, devpi-server and proxpi in front of one local upstream.

Every server listens on loopback; nothing is asked of the internet. The upstream is a plain
wheelyard (benchmarks/proxies.py ``Upstream``) with the real dists (``../shared/data/dists``;
without them the run says so and stops) and large generated wheels imported: ``--large-mb``
(20) MB of incompressible bytes each, one distinct file for every measurement of a first
download, so each one is uncached wherever it is asked for. In front of it, in one run:

- wheelyard: a second ``wheelyard serve`` with ``WHEELYARD_UPSTREAM_URL`` set to it;
- devpi-server 6 with an index of type ``mirror`` whose ``mirror_url`` is its ``/simple/``;
- proxpi 1.3 under gunicorn (2 threads, as its image runs it), ``PROXPI_INDEX_URL`` the
  upstream, ``PROXPI_CACHE_DIR`` in the run's folder.

What is measured, each measurement in rounds that take the servers in a rotating order
(as benchmarks/run.py does), so the machine's drift falls on all of them:

1. The warm simple page ``/simple/flask/`` (HTML, and PEP 691 JSON by ``Accept``), req/s by
   wrk, through each proxy once it has cached the page, and the upstream's own page (a local
   project there): what a cached upstream page costs against a local one.
2. Time to first byte of an uncached large file through each proxy (its page cached, the
   file not) and straight from the upstream; redirects followed, as pip follows them
   (proxpi sends a client to the upstream when its own fetch takes longer than 0.9 s). The
   whole file is read and its sha256 checked too.
3. ``--clients`` (32) concurrent first requests of one uncached file through each proxy:
   how many times the upstream served it (its ``downloads`` rows for that filename, once its
   flusher is idle). Every answer is read whole and checked.
4. ``pip install flask requests alembic`` (benchmarks/pip_runs.py: a fresh virtualenv,
   ``--no-cache-dir``) through each proxy, cold (the proxy restarted on an empty cache: a
   new var dir, server dir or cache dir) and then warm (the same proxy again).

Then a table with the ratios, a verdict per bar (benchmarks/upstream_report.py), and the raw
numbers in ``benchmarks/results/upstream-latest.json``. Every server started is stopped at
the end, on error too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from benchmarks import load, net, outcome, peers, pip_runs, proxies, run, upstream_report, wheels
from benchmarks.peers import HTML, SIMPLE_JSON, Probe, Server
from benchmarks.proxies import DevpiMirror, Proxpi, Upstream, WheelyardProxy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROJECT = "flask"
FLASK_WHEEL = "flask-3.1.3-py3-none-any.whl"
LARGE_PROJECT = "yard-large"
REDIRECTS = (301, 302, 303, 307, 308)
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Options:
    quick: bool
    load: load.Load
    dists: Path
    workdir: Path
    results: Path
    large_mb: int
    clients: int
    skip_pip: bool


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s, 1 s warm-up")
    parser.add_argument("--duration", type=float, help="seconds per wrk round (4; quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds per server (3; quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of wrk warm-up (3; quick 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--dists", type=Path, default=REPO.parent / "shared" / "data" / "dists")
    parser.add_argument("--workdir", type=Path, default=HERE / "work-upstream")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "upstream-latest.json")
    parser.add_argument("--large-mb", type=int, default=20, help="size of the large wheels")
    parser.add_argument("--clients", type=int, default=32, help="concurrent first requests")
    parser.add_argument("--skip-pip", action="store_true", help="leave out the pip installs")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    return Options(
        quick=quick,
        load=load.Load(
            threads=args.threads,
            connections=args.connections,
            duration=args.duration or (2.0 if quick else 4.0),
            rounds=args.rounds or (2 if quick else 3),
            warmup=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
        ),
        dists=args.dists,
        workdir=args.workdir.resolve(),
        results=args.results.resolve(),
        large_mb=args.large_mb,
        clients=args.clients,
        skip_pip=bool(args.skip_pip),
    )


say = run.say


@dataclass
class Servers:
    upstream: Upstream
    wheelyard: WheelyardProxy
    devpi: DevpiMirror
    proxpi: Proxpi

    def proxies(self) -> tuple[WheelyardProxy, DevpiMirror, Proxpi]:
        return (self.wheelyard, self.devpi, self.proxpi)

    def all(self) -> tuple[Server, ...]:
        return (self.upstream, *self.proxies())


def rotations(servers: tuple[Any, ...], rounds: int) -> list[tuple[Any, ...]]:
    """The order of each round: every server first once in turn."""
    return [(*servers[n % len(servers) :], *servers[: n % len(servers)]) for n in range(rounds)]


# --- set-up -----------------------------------------------------------------------------------


def large_files_needed(rounds: int) -> int:
    """One per round for the upstream and each proxy, and one per proxy for concurrency."""
    return rounds * 4 + 3


def start_servers(
    options: Options, large_dir: Path, stack: contextlib.ExitStack, results: dict[str, Any]
) -> Servers:
    devpi_venv = peers.ensure_venv(peers.DEVPI_VENV)
    proxpi_venv = peers.ensure_venv(proxies.PROXPI_VENV)
    results["versions"] = {
        "wheelyard": peers.installed_version(REPO / ".venv", "wheelyard"),
        "granian": peers.installed_version(REPO / ".venv", "granian"),
        "devpi-server": peers.installed_version(devpi_venv, "devpi-server"),
        "proxpi": peers.installed_version(proxpi_venv, "proxpi"),
        "gunicorn": peers.installed_version(proxpi_venv, "gunicorn"),
    }
    work = options.workdir
    upstream = Upstream(work / "upstream", net.free_port())
    stack.callback(upstream.stop)
    upstream.var.mkdir(parents=True)
    upstream.cli("db", "upgrade")
    with run.timed() as seconds:
        upstream.cli("import", "dists", str(options.dists))
        upstream.cli("import", "dists", str(large_dir))
    say(f"upstream: imported the real dists and the large wheels in {seconds():.1f} s")
    upstream.start()
    servers = Servers(
        upstream=upstream,
        wheelyard=WheelyardProxy(work / "wheelyard", net.free_port(), upstream.index_url),
        devpi=DevpiMirror(work / "devpi", net.free_port(), devpi_venv, upstream.index_url),
        proxpi=Proxpi(work / "proxpi", net.free_port(), proxpi_venv, upstream.index_url),
    )
    for proxy in servers.proxies():
        stack.callback(proxy.stop)
    # devpi is slow to come up: start it first and the others while it gets ready.
    servers.devpi.launch()
    servers.wheelyard.start()
    servers.proxpi.start()
    servers.devpi.wait_ready()
    servers.devpi.prepare()
    mirrored = servers.devpi.mirror_config()
    if mirrored.get("type") != "mirror" or mirrored.get("mirror_url") != upstream.index_url:
        raise RuntimeError(f"devpi's index is not a mirror of the upstream: {mirrored}")
    say("the upstream, wheelyard, devpi and proxpi are up")
    return servers


# --- measuring --------------------------------------------------------------------------------


def simple_probes(servers: Servers) -> dict[str, dict[str, Probe]]:
    return {
        server.name: {
            "simple_html": Probe(server.simple_url(PROJECT), HTML),
            "simple_json": Probe(server.simple_url(PROJECT), SIMPLE_JSON),
        }
        for server in servers.all()
    }


def warm_pages(probes: dict[str, dict[str, Probe]], results: dict[str, Any]) -> None:
    """Ask every page once (the proxies fetch and cache it); status, type and size go into
    the results, and each HTML page must link flask's wheel."""
    run.describe_probes(probes, results)
    for by_name in probes.values():
        probe = by_name["simple_html"]
        net.link_to(probe.url, net.get(probe.url, probe.headers).body.decode(), FLASK_WHEEL)


@dataclass(frozen=True)
class Download:
    status: int
    first_byte_s: float  # from sending the request to the body's first byte
    total_s: float
    size: int
    sha256: str
    redirects: int


def download(url: str, timeout: float = 300.0) -> Download:
    """GET ``url`` following redirects, timing the first body byte and the last."""
    started = time.perf_counter()
    for hop in range(6):
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers={"User-Agent": "wheelyard-bench"})
            response = connection.getresponse()
            if response.status in REDIRECTS:
                response.read()
                url = urljoin(url, response.getheader("location", ""))
                continue
            digest = hashlib.sha256()
            first = response.read(1)
            first_byte = time.perf_counter() - started
            digest.update(first)
            size = len(first)
            while chunk := response.read(READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            total = time.perf_counter() - started
            return Download(response.status, first_byte, total, size, digest.hexdigest(), hop)
        finally:
            connection.close()
    raise RuntimeError(f"more than 5 redirects from {url}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def measure_first_bytes(
    servers: Servers, files: list[Path], options: Options, results: dict[str, Any]
) -> None:
    """One uncached large file a round from each server; medians of the rounds."""
    runs: dict[str, list[Download]] = {server.name: [] for server in servers.all()}
    correct: dict[str, list[bool]] = {server.name: [] for server in servers.all()}
    unused = iter(files)
    for order in rotations(servers.all(), options.load.rounds):
        for server in order:
            path = next(unused)
            # The page is asked first (and cached by a proxy): only the file is uncached.
            url = server.download_url(LARGE_PROJECT, path.name)
            done = download(url)
            whole = done.status == 200 and done.sha256 == sha256_of(path)
            runs[server.name].append(done)
            correct[server.name].append(whole)
            say(
                f"first byte of {path.name} from {server.name}: {done.first_byte_s * 1000:.1f} "
                f"ms, whole file {done.total_s * 1000:.0f} ms"
                + ("" if whole else f" WRONG ({done.status}, {done.size} bytes)")
                + (f", {done.redirects} redirect(s)" if done.redirects else "")
            )
    for name, attempts in runs.items():
        results["first_byte"][name] = {
            "first_byte_ms": statistics.median(a.first_byte_s * 1000 for a in attempts),
            "total_ms": statistics.median(a.total_s * 1000 for a in attempts),
            "rounds_first_byte_ms": [round(a.first_byte_s * 1000, 1) for a in attempts],
            "rounds_total_ms": [round(a.total_s * 1000, 1) for a in attempts],
            "redirects": [a.redirects for a in attempts],
            "ok": all(correct[name]),
        }


def concurrent_first_requests(
    servers: Servers, files: list[Path], options: Options, results: dict[str, Any]
) -> None:
    """``clients`` requests of one uncached file at once through each proxy; then the rows
    the upstream wrote for that file."""
    for proxy, path in zip(servers.proxies(), files, strict=True):
        filename = path.name
        url = proxy.download_url(LARGE_PROJECT, filename)
        expected = sha256_of(path)
        before = servers.upstream.served(filename)
        start = threading.Barrier(options.clients)

        def fetch(_: int, url: str = url, start: threading.Barrier = start) -> Download:
            start.wait()
            return download(url)

        with ThreadPoolExecutor(max_workers=options.clients) as pool:
            answers = list(pool.map(fetch, range(options.clients)))
        run.settled_downloads(servers.upstream)
        served = servers.upstream.served(filename) - before
        whole = sum(1 for a in answers if a.status == 200 and a.sha256 == expected)
        results["concurrent"][proxy.name] = {
            "clients": options.clients,
            "filename": filename,
            "ok": whole,
            "upstream_served": served,
            "statuses": dict(Counter(str(a.status) for a in answers)),
            "redirected": sum(1 for a in answers if a.redirects),
            "slowest_ms": round(max(a.total_s for a in answers) * 1000, 1),
        }
        say(
            f"{options.clients} concurrent first requests through {proxy.name}: {whole} whole "
            f"answers (statuses {dict(Counter(a.status for a in answers))}), the upstream "
            f"served the file {served} time(s)"
        )


def pip_rounds(servers: Servers, options: Options, results: dict[str, Any]) -> None:
    """Each round, each proxy (rotating): restarted on an empty cache, one install (cold),
    then another (warm)."""
    runs: dict[str, dict[str, list[pip_runs.Install]]] = {
        proxy.name: {"cold": [], "warm": []} for proxy in servers.proxies()
    }
    for order in rotations(servers.proxies(), options.load.rounds):
        for proxy in order:
            proxy.fresh()
            for state in ("cold", "warm"):
                done = pip_runs.install(f"{proxy.name}-{state}", proxy.index_url, options.workdir)
                runs[proxy.name][state].append(done)
                say(
                    f"pip install through {proxy.name}, {state}: {done.seconds:.2f} s"
                    + ("" if done.ok else " FAILED")
                )
    for name, states in runs.items():
        results["pip"][name] = {
            state: {
                "seconds": statistics.median(a.seconds for a in attempts),
                "rounds": [round(a.seconds, 2) for a in attempts],
                "ok": all(a.ok for a in attempts),
                "output_tail": next((a.output_tail for a in attempts if not a.ok), ""),
            }
            for state, attempts in states.items()
        }


# --- the run ----------------------------------------------------------------------------------


def empty_results(options: Options, argv: list[str] | None) -> dict[str, Any]:
    return {
        "command": " ".join(["python -m benchmarks.upstream", *(argv or sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "quick": options.quick,
            "load": asdict(options.load),
            "large_file_mb": options.large_mb,
            "clients": options.clients,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
        },
        "probes": {},
        "simple": {},
        "first_byte": {},
        "concurrent": {},
        "pip": {},
        "notes": [],
    }


def execute(options: Options, results: dict[str, Any]) -> None:
    shutil.rmtree(options.workdir, ignore_errors=True)
    options.workdir.mkdir(parents=True)
    large_dir = options.workdir / "large"
    count = large_files_needed(options.load.rounds)
    with run.timed() as seconds:
        large = wheels.generate_large(large_dir, count, options.large_mb, LARGE_PROJECT)
    say(f"generated {count} wheels of {options.large_mb} MB in {seconds():.1f} s")
    with contextlib.ExitStack() as stack:
        servers = start_servers(options, large_dir, stack, results)
        probes = simple_probes(servers)
        warm_pages(probes, results)
        say("warm simple pages: the upstream's own, and each proxy's cached copy")
        names = ("simple_html", "simple_json")
        run.measure_phase("simple", servers.all(), probes, names, options.load, results)
        say(f"first byte of an uncached {options.large_mb} MB file")
        measured = options.load.rounds * len(servers.all())
        measure_first_bytes(servers, large[:measured], options, results)
        concurrent_first_requests(servers, large[measured:], options, results)
        if options.skip_pip:
            results["notes"].append("pip install not measured in this run (--skip-pip)")
        else:
            pip_rounds(servers, options, results)
        say("stopping the servers")


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if not (options.dists / FLASK_WHEEL).is_file():
        print(
            f"benchmarks.upstream: skipped: {options.dists} is missing (or has no "
            f"{FLASK_WHEEL}); the upstream needs the real dists for its flask page and the "
            "pip installs",
            flush=True,
        )
        return 0
    results = empty_results(options, argv)
    return outcome.run_and_report(
        lambda found: execute(options, found),
        results,
        options.results,
        upstream_report.bars,
        upstream_report.render,
    )


if __name__ == "__main__":
    sys.exit(main())
