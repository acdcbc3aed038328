"""``make bench``: wheelyard against pypiserver, devpi-server and nginx, in one run.

Every server listens on loopback; every load comes from wrk with the same threads and
connections. A measurement of one URL is a few rounds per server, interleaved with the other
servers' rounds (so background load on the machine falls on all of them alike), after one
warm-up at the same load; between runs the driver waits until the server has answered what
the last run left queued. What is measured, in order:

1. twine upload of the real dists (``../shared/data/dists``) into wheelyard (API token),
   devpi (the account's name and password, as twine is usually set up for it; and once
   more into another index with its login token as the password) and pypiserver:
   wall-clock time of one ``twine upload`` of all of them.
2. Phase 1, only those files in each index: req/s and latency of the per-project simple
   page (HTML, and PEP 691 JSON by ``Accept``) and of downloading one file (flask's wheel).
3. The generated set (10,000 tiny valid wheels over 1,000 projects) goes into every index:
   ``wheelyard import dists``, a copy into pypiserver's folder, and uploads into devpi
   (4 at a time, with its login token: devpi's bulk path, devpi-import, wants its own
   export format). Timed. Then the driver waits until the indexes' processes are idle
   (under 5% of a core for 3 s; devpi works through its uploads' events for a while).
4. Phase 2, with every file loaded: the same pages and download again, plus the JSON API,
   on all four servers. nginx serves byte-for-byte copies of wheelyard's answers as static
   files: the ceiling for "the same bytes", and, since its files do not change, a control
   for how much the machine drifted between the phases. Phase 1 against phase 2 says
   whether latency stays flat as the index grows.
5. Download recording: wheelyard's download req/s with recording on and, restarted with
   ``WHEELYARD_RECORD_DOWNLOADS=0``, off, alternating; then a counted run (an exact number
   of downloads, see lua/counted_downloads.lua) whose 200s must equal the rows the flush
   adds to ``downloads``.
6. The private site (benchmarks/private_site.py): wheelyard restarted with
   ``WHEELYARD_PRIVATE=1`` and read with a read-only token, against the same wheelyard read
   anonymously, alternating: simple page HTML and JSON, file download.
7. ``pip install flask requests alembic`` from each Python index into a fresh virtualenv,
   ``--no-cache-dir``, pip's own configuration ignored: median wall-clock time of the rounds;
   then from wheelyard anonymously against the private site with the token in the URL.

Then one table with the ratios, a verdict per bar, and the raw numbers in
``benchmarks/results/latest.json``. Every server started is stopped at the end, on error too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import load, net, outcome, peers, pip_runs, private_site, report, rss, wheels
from benchmarks.peers import Devpi, Nginx, Probe, Pypiserver, Server, Wheelyard

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
PHASE1_PROBES = ("simple_html", "simple_json", "download")
PHASE2_PROBES = ("simple_html", "simple_json", "download", "json_api")
# What the measured page and download are, when the real dists are there.
REAL_PROJECT = "flask"
REAL_FILENAME = "flask-3.1.3-py3-none-any.whl"


@dataclass(frozen=True)
class Options:
    quick: bool
    load: load.Load
    files: int
    projects: int
    dists: Path
    workdir: Path
    results: Path
    pypiserver_workers: int
    devpi_upload_workers: int
    skip_pip: bool


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 2 s, 1,000 generated wheels"
    )
    parser.add_argument("--duration", type=float, help="seconds per round (4; quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds per server and URL (3; quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up (3; quick 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--files", type=int, help="generated wheels (10,000; quick 1,000)")
    parser.add_argument("--projects", type=int, help="projects they spread over (1,000; quick 100)")
    parser.add_argument("--dists", type=Path, default=REPO.parent / "shared" / "data" / "dists")
    parser.add_argument("--workdir", type=Path, default=HERE / "work")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument(
        "--pypiserver-workers", type=int, default=1, help="gunicorn workers (its default: 1)"
    )
    parser.add_argument("--devpi-upload-workers", type=int, default=4)
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
        files=args.files or (1_000 if quick else 10_000),
        projects=args.projects or (100 if quick else 1_000),
        dists=args.dists,
        workdir=args.workdir.resolve(),
        results=args.results.resolve(),
        pypiserver_workers=args.pypiserver_workers,
        devpi_upload_workers=args.devpi_upload_workers,
        skip_pip=bool(args.skip_pip),
    )


def say(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    elapsed: float | None = None

    def seconds() -> float:
        return elapsed if elapsed is not None else time.perf_counter() - started

    try:
        yield seconds
    finally:
        elapsed = time.perf_counter() - started


@dataclass
class Servers:
    wheelyard: Wheelyard
    pypiserver: Pypiserver
    devpi: Devpi
    nginx: Nginx

    def indexes(self) -> tuple[Server, ...]:
        """The three Python package indexes (nginx only serves copies)."""
        return (self.wheelyard, self.pypiserver, self.devpi)

    def all(self) -> tuple[Server, ...]:
        return (*self.indexes(), self.nginx)


@dataclass(frozen=True)
class Subject:
    """The project page and file measured, and the files every index holds."""

    project: str
    filename: str
    real_files: list[Path]
    generated: list[Path]


# --- set-up -----------------------------------------------------------------------------------


def real_dists(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(DIST_SUFFIXES))


def choose_subject(options: Options, results: dict[str, Any]) -> Subject:
    """The real dists when present; otherwise 33 more tiny wheels stand in for them."""
    real = real_dists(options.dists)
    generated_dir = options.workdir / "generated"
    with timed() as seconds:
        generated = wheels.generate(generated_dir, options.files, options.projects)
    say(f"generated {len(generated):,} wheels, {options.projects:,} projects, {seconds():.1f} s")
    if real and any(p.name == REAL_FILENAME for p in real):
        return Subject(REAL_PROJECT, REAL_FILENAME, real, generated)
    results["notes"].append(
        f"{options.dists} is missing (or has no {REAL_FILENAME}): 33 generated wheels stand in "
        "for the real dists and the pip install is left out"
    )
    stand_ins = wheels.generate(options.workdir / "stand-ins", 33, 3, prefix="yard-real")
    first = wheels.plan(33, 3, prefix="yard-real")[0]
    return Subject(first.project, first.filename, stand_ins, generated)


def start_servers(
    options: Options, stack: contextlib.ExitStack, results: dict[str, Any]
) -> Servers:
    pypiserver_venv = peers.ensure_venv(peers.PYPISERVER_VENV)
    devpi_venv = peers.ensure_venv(peers.DEVPI_VENV)
    results["versions"] = {
        "wheelyard": peers.installed_version(REPO / ".venv", "wheelyard"),
        "granian": peers.installed_version(REPO / ".venv", "granian"),
        "pypiserver": peers.installed_version(pypiserver_venv, "pypiserver"),
        "gunicorn": peers.installed_version(pypiserver_venv, "gunicorn"),
        "devpi-server": peers.installed_version(devpi_venv, "devpi-server"),
        "nginx": _first_line([shutil.which("nginx") or "/usr/sbin/nginx", "-v"]),
        "wrk": _first_line([load.wrk_binary(), "-v"]),
    }
    work = options.workdir
    servers = Servers(
        wheelyard=Wheelyard(work / "wheelyard", net.free_port()),
        pypiserver=Pypiserver(
            work / "pypiserver", net.free_port(), pypiserver_venv, options.pypiserver_workers
        ),
        devpi=Devpi(work / "devpi", net.free_port(), devpi_venv),
        nginx=Nginx(work / "nginx", net.free_port()),
    )
    for server in servers.all():
        stack.callback(server.stop)
    servers.wheelyard.prepare()
    # devpi is slow to come up: start it first and the others while it gets ready.
    servers.devpi.launch()
    servers.wheelyard.start()
    servers.pypiserver.start()
    servers.devpi.wait_ready()
    servers.devpi.prepare()
    say("wheelyard, pypiserver and devpi are up")
    return servers


def _first_line(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else ""


# --- uploads and loading ----------------------------------------------------------------------


def twine_upload(url: str, username: str, secret: str, files: list[Path]) -> float:
    """Wall-clock seconds of one ``twine upload`` of ``files``."""
    env = {
        **os.environ,
        "TWINE_USERNAME": username,
        "TWINE_PASSWORD": secret,
        # The same for every index: no keyring look-ups around the uploads.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    argv = [str(REPO / ".venv" / "bin" / "twine"), "upload", "--non-interactive"]
    argv += ["--disable-progress-bar", "--repository-url", url, *map(str, files)]
    with timed() as seconds:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"twine upload to {url} failed:\n{done.stdout}{done.stderr}")
    return seconds()


def upload_real_files(servers: Servers, subject: Subject, results: dict[str, Any]) -> None:
    files = subject.real_files
    wy, devpi, pypi = servers.wheelyard, servers.devpi, servers.pypiserver
    uploads = (
        (wy, wy.upload_url, "__token__", wy.token),
        (devpi, devpi.upload_url, devpi.user, devpi.password),
        # No authentication configured: any name and password will do.
        (pypi, pypi.upload_url, "bench", "bench"),
    )
    for server, url, username, secret in uploads:
        seconds = twine_upload(url, username, secret, files)
        results["twine"][server.name] = seconds
        say(f"twine upload of {len(files)} files to {server.name}: {seconds:.2f} s")
    # twine is usually given the devpi account's password, which devpi checks with argon2 on
    # every file; its login token is also accepted and is far cheaper. Into a second index,
    # so the files are new there too.
    token_index = devpi.create_index("twine-token")
    seconds = twine_upload(token_index, devpi.user, devpi.token, files)
    results["twine"]["devpi_login_token"] = seconds
    say(f"twine upload of {len(files)} files to devpi with its login token: {seconds:.2f} s")


def load_generated(
    servers: Servers, subject: Subject, options: Options, results: dict[str, Any]
) -> None:
    """Put the generated set into every index, by the quickest way each one offers."""
    generated = subject.generated
    directory = generated[0].parent
    wy, pypi, devpi = servers.wheelyard, servers.pypiserver, servers.devpi
    with timed() as seconds:
        wy.cli("import", "dists", str(directory))
    results["load_generated"]["wheelyard"] = {"seconds": seconds(), "how": "wheelyard import dists"}
    say(f"wheelyard import dists: {seconds():.1f} s")

    with timed() as seconds:
        pypi.add_files(generated)
    results["load_generated"]["pypiserver"] = {"seconds": seconds(), "how": "copy into its folder"}
    say(f"pypiserver copy: {seconds():.1f} s")

    workers = options.devpi_upload_workers
    upload = net.upload_all(devpi.upload_url, generated, devpi.token_headers(), workers)
    results["load_generated"]["devpi"] = {
        "seconds": upload.seconds,
        "how": f"uploads with its login token, {workers} at a time",
        "statuses": {str(k): v for k, v in upload.statuses.items()},
        "ok": upload.stored == len(generated),
    }
    say(f"devpi uploads: {upload.seconds:.1f} s, statuses {upload.statuses}")
    if upload.stored != len(generated):
        raise RuntimeError(f"devpi stored {upload.stored} of {len(generated)} uploads")


def check_loaded(
    servers: Servers, subject: Subject, options: Options, results: dict[str, Any]
) -> None:
    """Each index serves every generated file: its last project lists all its versions."""
    total = len(subject.real_files) + len(subject.generated)
    last = wheels.plan(options.files, options.projects)
    project = last[-1].project
    expected = sum(1 for w in last if w.project == project)
    loaded: dict[str, int] = {"wheelyard": servers.wheelyard.count("release_files")}
    loaded["pypiserver"] = sum(1 for _ in servers.pypiserver.packages.iterdir())
    deadline = time.monotonic() + 60
    for server in servers.indexes():
        while True:
            reply = net.get(server.simple_url(project), peers.HTML)
            links = reply.body.count(b"<a ") if reply.status == 200 else 0
            if links == expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # pypiserver notices new files through watchdog, a moment later
        if links != expected:
            raise RuntimeError(f"{server.name} lists {links} files of {project}, not {expected}")
    devpi = results["load_generated"]["devpi"]["statuses"]
    loaded["devpi"] = len(subject.real_files) + int(devpi.get("200", 0)) + int(devpi.get("201", 0))
    results["files"]["loaded"] = loaded
    results["files"]["phase2"] = total
    short = {name: count for name, count in loaded.items() if count != total}
    if short:
        raise RuntimeError(f"not every index holds {total} files: {short}")


# --- measuring --------------------------------------------------------------------------------


def probes_of(servers: Servers, subject: Subject) -> dict[str, dict[str, Probe]]:
    return {
        server.name: server.probes(subject.project, subject.filename) for server in servers.all()
    }


def describe_probes(probes: dict[str, dict[str, Probe]], results: dict[str, Any]) -> None:
    """Fetch every probe once: status, type and size go into the results."""
    for server, by_name in probes.items():
        for name, probe in by_name.items():
            reply = net.get(probe.url, probe.headers)
            results["probes"].setdefault(server, {})[name] = {
                "url": probe.url,
                "accept": probe.headers.get("Accept"),
                "status": reply.status,
                "content_type": reply.headers.get("content-type"),
                "body_bytes": len(reply.body),
            }
            if reply.status != 200:
                raise RuntimeError(f"{server} {name} {probe.url} answered {reply.status}")


def start_nginx(servers: Servers, subject: Subject, probes: dict[str, dict[str, Probe]]) -> None:
    """nginx gets wheelyard's exact bytes for each probe, and must serve them back."""
    mine = probes["wheelyard"]
    copies = {name: net.get(p.url, p.headers).body for name, p in mine.items()}
    servers.nginx.store_copies(subject.project, copies, subject.filename)
    servers.nginx.start()
    for name, probe in servers.nginx.probes(subject.project, subject.filename).items():
        if net.get(probe.url, probe.headers).body != copies[name]:
            raise RuntimeError(f"nginx does not serve wheelyard's bytes for {name}")


def measure_phase(
    phase: str,
    servers: tuple[Server, ...],
    probes: dict[str, dict[str, Probe]],
    names: tuple[str, ...],
    wrk: load.Load,
    results: dict[str, Any],
) -> None:
    """Each URL on every server, in interleaved rounds.

    The machine's background load drifts; measuring the servers one after another, round
    by round (in a rotating order), exposes them all to the same drift, so their ratios
    hold up better than their absolute numbers.
    """
    for name in names:
        rounds: dict[str, list[load.WrkResult]] = {server.name: [] for server in servers}
        for number in range(wrk.rounds):
            turn = number % len(servers)
            for server in (*servers[turn:], *servers[:turn]):
                probe = probes[server.name][name]
                result = load.measure(wrk, probe.url, probe.headers, warm_up=number == 0)
                rounds[server.name].append(result)
        for server in servers:
            combined = load.combine(rounds[server.name])
            results[phase].setdefault(server.name, {})[name] = {
                **combined.as_dict(),
                "rounds_rps": [round(r.rps, 1) for r in rounds[server.name]],
            }
            say(
                f"{phase} {name:<11} {server.name:<10} {combined.rps:>9,.0f} req/s  "
                f"p50 {combined.p50_ms:8.2f} ms  p99 {combined.p99_ms:8.2f} ms"
                + (f"  non-2xx {combined.non_2xx}" if combined.non_2xx else "")
                + (f"  socket errors {combined.socket_errors}" if combined.socket_errors else "")
            )


def settled_downloads(wy: Wheelyard, timeout: float = 30.0) -> int:
    """The downloads row count once the flusher (twice a second) has nothing left to write."""
    deadline = time.monotonic() + timeout
    count, stable_since = wy.count("downloads"), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = wy.count("downloads")
        if now != count:
            count, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 1.5:
            break
    return count


def measure_recording(
    servers: Servers, probe: Probe, options: Options, results: dict[str, Any]
) -> None:
    """Downloads with recording on and off, alternating, then the counted run."""
    wy = servers.wheelyard
    recording: dict[str, Any] = results["recording"]
    on: list[load.WrkResult] = []
    off: list[load.WrkResult] = []
    recorded_while_off = 0
    for _ in range(options.load.rounds):
        wy.restart()
        on.append(load.measure(options.load, probe.url))
        before = settled_downloads(wy)
        wy.restart(WHEELYARD_RECORD_DOWNLOADS="0")
        off.append(load.measure(options.load, probe.url))
        recorded_while_off += settled_downloads(wy) - before
    recording["on"] = load.combine(on).as_dict()
    recording["switch_supported"] = recorded_while_off == 0
    if recorded_while_off == 0:
        recording["off"] = load.combine(off).as_dict()
        recording["off_method"] = "WHEELYARD_RECORD_DOWNLOADS=0"
    else:
        # No switch: a Range request for the whole file is the same lookup and the same
        # bytes, and wheelyard does not record ranged requests.
        results["notes"].append(
            "WHEELYARD_RECORD_DOWNLOADS=0 is not supported by this wheelyard "
            f"({recorded_while_off:,} rows written with it set); 'recording off' is measured "
            "as GETs with 'Range: bytes=0-', which wheelyard does not record"
        )
        proxy = load.measure(options.load, probe.url, {"Range": "bytes=0-"})
        recording["off"] = proxy.as_dict()
        recording["off_method"] = "Range: bytes=0- (no switch)"
    say(
        f"downloads: recording on {recording['on']['rps']:,.0f} req/s, "
        f"off {recording['off']['rps']:,.0f} req/s ({recording['off_method']})"
    )
    wy.restart()
    recording["count"] = counted_run(wy, probe, recording["on"]["rps"], options)


def counted_run(wy: Wheelyard, probe: Probe, rps: float, options: Options) -> dict[str, Any]:
    path = probe.url.removeprefix(wy.base_url)
    miss = "/packages/00/00/" + "0" * 60 + "/yard_bench_missing-0.0.0-py3-none-any.whl"
    net.get(probe.url)  # the first request after a restart pays for the start-up
    base = settled_downloads(wy)
    # About half of what the measured rate allows, so the budget is spent before the end
    # even though the counting script makes wrk itself slower.
    seconds = options.load.duration * options.load.rounds
    budget = max(100, int(rps * seconds * 0.5) // options.load.threads)
    counted = load.counted_downloads(options.load, seconds, wy.base_url, path, miss, budget)
    added = settled_downloads(wy) - base
    say(
        f"counted downloads: {counted.ok:,} served (budget {counted.budget:,}), "
        f"{added:,} rows added"
    )
    return {
        **asdict(counted),
        "complete": counted.complete,
        "served": counted.ok,
        "rows_added": added,
    }


def pip_installs(servers: tuple[Server, ...], options: Options, results: dict[str, Any]) -> None:
    """Rounds of one install from each index in turn; the median time of each counts."""
    runs: dict[str, list[dict[str, Any]]] = {server.name: [] for server in servers}
    for number in range(options.load.rounds):
        turn = number % len(servers)
        for server in (*servers[turn:], *servers[:turn]):
            runs[server.name].append(pip_install(server, options.workdir))
    for name, attempts in runs.items():
        results["pip"][name] = {
            "seconds": statistics.median(a["seconds"] for a in attempts),
            "rounds": [round(a["seconds"], 2) for a in attempts],
            "ok": all(a["ok"] for a in attempts),
            "output_tail": next((a["output_tail"] for a in attempts if not a["ok"]), ""),
        }


def pip_install(server: Server, workdir: Path) -> dict[str, Any]:
    """``pip install flask requests alembic`` from ``server`` into a fresh virtualenv."""
    done = pip_runs.install(server.name, server.index_url, workdir)
    say(f"pip install from {server.name}: {done.seconds:.2f} s{'' if done.ok else ' FAILED'}")
    return {"seconds": done.seconds, "ok": done.ok, "output_tail": done.output_tail}


# --- the run ----------------------------------------------------------------------------------


def empty_results(options: Options, argv: list[str] | None) -> dict[str, Any]:
    return {
        "command": " ".join(["python -m benchmarks.run", *(argv or sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "quick": options.quick,
            "load": asdict(options.load),
            "generated_files": options.files,
            "generated_projects": options.projects,
            "pypiserver_workers": options.pypiserver_workers,
            "devpi_upload_workers": options.devpi_upload_workers,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
        },
        "files": {},
        "probes": {},
        "twine": {},
        "load_generated": {},
        "phase1": {},
        "phase2": {},
        "recording": {},
        "pip": {},
        "private": {},
        "notes": [],
    }


def run(options: Options, results: dict[str, Any]) -> None:
    shutil.rmtree(options.workdir, ignore_errors=True)
    options.workdir.mkdir(parents=True)
    subject = choose_subject(options, results)
    results["files"].update(
        real=len(subject.real_files),
        generated=len(subject.generated),
        phase1=len(subject.real_files),
    )
    with contextlib.ExitStack() as stack:
        servers = start_servers(options, stack, results)
        upload_real_files(servers, subject, results)
        probes = probes_of(servers, subject)
        describe_probes({s.name: probes[s.name] for s in servers.indexes()}, results)
        start_nginx(servers, subject, probes)
        describe_probes({"nginx": probes["nginx"]}, results)

        say(f"phase 1: {len(subject.real_files)} files in each index")
        # nginx too: its files do not change between the phases, so its numbers show how
        # much the machine itself changed between them.
        measure_phase("phase1", servers.all(), probes, PHASE1_PROBES, options.load, results)

        load_generated(servers, subject, options, results)
        check_loaded(servers, subject, options, results)
        wait_until_idle(servers, results)
        say(f"phase 2: {results['files']['phase2']:,} files in each index")
        measure_phase("phase2", servers.all(), probes, PHASE2_PROBES, options.load, results)

        measure_recording(servers, probes["wheelyard"]["download"], options, results)

        say("private site: anonymous against WHEELYARD_PRIVATE=1 with a read token")
        wy = servers.wheelyard
        token = private_site.measure(wy, probes["wheelyard"], options.load, results, say)

        if options.skip_pip or subject.project != REAL_PROJECT:
            results["notes"].append("pip install not measured in this run")
        else:
            pip_installs(servers.indexes(), options, results)
            private_site.pip_rounds(wy, token, options.load.rounds, options.workdir, results, say)
        say("stopping the servers")


# After the load a server may go on working in the background (devpi processes an event per
# upload); phase 2 would then measure everyone on a machine that one of them keeps busy.
IDLE_CPU_SHARE = 0.05  # of one core, for the indexes together
IDLE_SECONDS = 3
IDLE_WAIT_LIMIT = 300.0


def wait_until_idle(servers: Servers, results: dict[str, Any]) -> None:
    """Wait until the indexes' processes use under 5% of a core for 3 s in a row."""
    roots = [
        server.process.popen.pid
        for server in servers.indexes()
        if server.process is not None and server.process.popen is not None
    ]

    def cpu_seconds() -> float:
        return sum(rss.sample(root, 0.0).cpu_seconds for root in roots)

    started = time.perf_counter()
    quiet = 0
    before = cpu_seconds()
    while quiet < IDLE_SECONDS and time.perf_counter() - started < IDLE_WAIT_LIMIT:
        time.sleep(1.0)
        now = cpu_seconds()
        quiet = quiet + 1 if now - before < IDLE_CPU_SHARE else 0
        before = now
    waited = time.perf_counter() - started
    results["idle_wait_s"] = round(waited, 1)
    say(
        f"the indexes were idle after {waited:.0f} s"
        if quiet >= IDLE_SECONDS
        else f"the indexes were still busy after {waited:.0f} s; measuring anyway"
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    results = empty_results(options, argv)
    return outcome.run_and_report(
        lambda found: run(options, found),
        results,
        options.results,
        report.bars,
        report.render,
    )


if __name__ == "__main__":
    sys.exit(main())
