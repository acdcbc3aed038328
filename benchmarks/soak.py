"""``make soak``: wheelyard under steady mixed load for minutes, on loopback only.

1. A fresh var directory and database: SQLite by default; with ``--database-url`` naming a
   PostgreSQL server, a scratch database created on it and dropped at the end.
2. Seed: the real dists (``../shared/data/dists``, when present) and generated wheels by
   ``wheelyard import dists``; a few more generated projects uploaded with the API token, so
   that the uploads during the run can add versions to projects the account owns.
3. ``wheelyard serve`` with its defaults (one worker per core) takes ``--concurrency``
   clients for ``--duration`` seconds from ``benchmarks.soak_load``, in its own process: pip
   installs, page views and a small share of twine-style uploads of new wheels.
4. Meanwhile the resident memory of every process of the server's tree is sampled every
   ``--sample-every`` seconds; growth is judged from the sample at ``--warmup`` seconds (120)
   to the last one. Each worker fills its caches (simple pages, JSON documents, served files,
   the listing's chunks: every project in every representation, per worker) as the clients
   reach them, which takes about two minutes at a few hundred requests a second: measured
   from 30 s, the whole-server curve still rose 37 MiB by 120 s and 12 MiB more by 210 s,
   then 1 MiB in the last 90 s. Every sample is kept in the results file, to read the curve.
5. Afterwards: once the download flusher is idle, the ``downloads`` table must have gained one
   row per wheel served; every upload that was accepted must be listed on its project's
   simple page; the server's log must hold no error.

Verdicts: zero errors (no answer outside 2xx/3xx, no connection error), RSS growth under 10%,
and the two checks above. The exit status is 0 only when all pass. Raw figures go to
``benchmarks/results/soak-latest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import sqlalchemy as sa
from packaging.utils import canonicalize_name

from benchmarks import net, peers, rss, wheels
from benchmarks.run import real_dists, settled_downloads
from benchmarks.soak_load import InstallTarget, Plan

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RSS_GROWTH_LIMIT = 10.0  # percent, from the issue
SEED_PREFIX = "yard-soak"
OWNED_PREFIX = "yard-soak-owned"
NEW_PREFIX = "yard-soak-new"
SEARCH_TERMS = ("flask", "requests", "yard", "soak", "sql", "owned", "http", "json", "zzz")
SIMPLE_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
WHEELS_PER_PROJECT = 2  # install targets per project: its newest wheels


@dataclass(frozen=True)
class Options:
    duration: float
    concurrency: int
    warmup: float
    sample_every: float
    upload_share: float
    seed_files: int
    seed_projects: int
    owned_projects: int
    database_url: str | None
    dists: Path
    workdir: Path
    results: Path
    seed: int


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (300)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at once (32)")
    parser.add_argument(
        "--warmup", type=float, default=120.0, help="seconds before the RSS baseline (120)"
    )
    parser.add_argument("--sample-every", type=float, default=5.0, help="RSS sampling, s (5)")
    parser.add_argument(
        "--upload-share", type=float, default=0.02, help="share of actions that upload (0.02)"
    )
    parser.add_argument("--seed-files", type=int, default=400, help="generated wheels imported")
    parser.add_argument("--seed-projects", type=int, default=80, help="... over this many projects")
    parser.add_argument(
        "--owned-projects", type=int, default=20, help="projects uploaded by the account"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres): "
        "the soak creates a scratch database there and drops it at the end; SQLite otherwise",
    )
    parser.add_argument("--dists", type=Path, default=REPO.parent / "shared" / "data" / "dists")
    parser.add_argument("--workdir", type=Path, default=HERE / "soak-work")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "soak-latest.json")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the clients")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.concurrency < 1 or not 0 <= args.upload_share < 0.45:
        parser.error("need a positive duration, 1+ clients and an upload share below 0.45")
    return Options(
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=args.warmup,
        sample_every=args.sample_every,
        upload_share=args.upload_share,
        seed_files=args.seed_files,
        seed_projects=args.seed_projects,
        owned_projects=args.owned_projects,
        database_url=args.database_url,
        dists=args.dists,
        workdir=args.workdir.resolve(),
        results=args.results.resolve(),
        seed=args.seed,
    )


def say(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


class SoakServer(peers.Wheelyard):
    """The benchmark's wheelyard, on any database URL; rows counted through SQLAlchemy."""

    def __init__(self, root: Path, port: int, database_url: str | None) -> None:
        super().__init__(root, port)
        self.database_url = database_url or f"sqlite:///{self.database}"
        self._engine: sa.Engine | None = None

    def env(self) -> dict[str, str]:
        return {**super().env(), "WHEELYARD_DATABASE_URL": self.database_url}

    def count(self, table: str) -> int:
        if self._engine is None:
            self._engine = sa.create_engine(self.database_url)
        with self._engine.connect() as connection:
            query = f"SELECT count(*) FROM {table}"  # noqa: S608 - our own table names
            return int(connection.exec_driver_sql(query).scalar_one())

    def stop(self) -> None:
        super().stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def pid(self) -> int:
        if self.process is None or self.process.popen is None:
            raise RuntimeError("the server is not running")
        return self.process.popen.pid

    def log_tail(self) -> str:
        return self.process.log_tail() if self.process is not None else ""

    def alive(self) -> bool:
        return (
            self.process is not None
            and self.process.popen is not None
            and (self.process.popen.poll() is None)
        )


@contextlib.contextmanager
def scratch_database(server_url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on ``server_url``'s server, dropped afterwards."""
    if server_url is None:
        yield None
        return
    url = sa.make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise SystemExit("--database-url must name a PostgreSQL server; SQLite is the default")
    name = f"wheelyard_soak_{os.getpid()}_{int(time.time())}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    say(f"scratch database {name} on {url.host}:{url.port}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        say(f"dropped {name}")


# --- seeding and the plan ---------------------------------------------------------------


def seed(server: SoakServer, options: Options, results: dict[str, Any]) -> None:
    """Import the real dists and the generated ones (projects without an owner)."""
    real = real_dists(options.dists)
    if real:
        server.cli("import", "dists", str(options.dists))
    else:
        results["notes"].append(f"{options.dists} is missing: generated wheels only")
    generated = wheels.generate(
        options.workdir / "seed", options.seed_files, options.seed_projects, prefix=SEED_PREFIX
    )
    server.cli("import", "dists", str(generated[0].parent))
    say(f"imported {len(real)} real and {len(generated)} generated files")
    results["seeded"] = {"real_files": len(real), "generated_files": len(generated)}


def upload_owned(server: SoakServer, options: Options, results: dict[str, Any]) -> list[str]:
    """Projects created by uploads, so the account may add versions to them under load."""
    owned = wheels.generate(
        options.workdir / "owned", options.owned_projects, options.owned_projects, OWNED_PREFIX
    )
    auth = {"Authorization": net.basic_auth("__token__", server.token)}
    report = net.upload_all(server.upload_url, owned, auth, workers=4)
    if report.stored != len(owned):
        raise RuntimeError(f"uploads of the owned projects answered {report.statuses}")
    results["seeded"]["owned_projects"] = len(owned)
    return sorted({path.name.split("-")[0].replace("_", "-") for path in owned})


def simple_json(base_url: str, project: str) -> dict[str, Any]:
    reply = net.get(f"{base_url}/simple/{project}/", SIMPLE_JSON)
    if reply.status != 200:
        raise RuntimeError(f"/simple/{project}/ answered {reply.status}")
    document: dict[str, Any] = json.loads(reply.body)
    return document


def make_plan(server: SoakServer, owned: list[str], options: Options) -> Plan:
    """What the clients ask for: every project's newest wheels, as its simple page links them."""
    index = json.loads(net.get(f"{server.base_url}/simple/", SIMPLE_JSON).body)
    projects = sorted({canonicalize_name(p["name"]) for p in index["projects"]})
    installs = []
    for project in projects:
        page = f"{server.base_url}/simple/{project}/"
        files = [
            f
            for f in simple_json(server.base_url, project)["files"]
            if f["filename"].endswith(".whl")
        ]
        for entry in files[-WHEELS_PER_PROJECT:]:
            metadata = entry.get("core-metadata") or entry.get("data-dist-info-metadata")
            url = urljoin(page, entry["url"]).split("#", 1)[0]
            installs.append(InstallTarget(project, url, bool(metadata)))
    return Plan(
        base_url=server.base_url,
        duration=options.duration,
        concurrency=options.concurrency,
        seed=options.seed,
        installs=installs,
        projects=list(projects),
        search_terms=list(SEARCH_TERMS),
        upload_url=server.upload_url,
        token=server.token,
        upload_share=options.upload_share,
        upload_projects=owned,
        new_project_prefix=NEW_PREFIX,
    )


# --- the run ------------------------------------------------------------------------------


def run_load(
    server: SoakServer, plan: Plan, options: Options
) -> tuple[dict[str, Any], list[rss.Sample]]:
    """The load generator in its own process; the server's memory sampled meanwhile."""
    plan_path = options.workdir / "plan.json"
    out_path = options.workdir / "load.json"
    plan_path.write_text(plan.to_json())
    argv = [sys.executable, "-m", "benchmarks.soak_load", str(plan_path), str(out_path)]
    generator = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    started = threading.Event()

    def relay() -> None:
        assert generator.stdout is not None
        for line in generator.stdout:
            if line.startswith("load: started"):
                started.set()
            say(line.rstrip())

    relaying = threading.Thread(target=relay, daemon=True)
    relaying.start()
    try:
        if not started.wait(60):
            raise RuntimeError("the load generator did not start")
        origin = time.monotonic()
        samples = [rss.sample(server.pid, 0.0)]
        while generator.poll() is None:
            next_tick = origin + len(samples) * options.sample_every
            time.sleep(max(0.0, min(next_tick - time.monotonic(), 1.0)))
            if time.monotonic() >= next_tick and generator.poll() is None:
                samples.append(rss.sample(server.pid, time.monotonic() - origin))
            if not server.alive():
                raise RuntimeError(f"the server died under load:\n{server.log_tail()}")
        samples.append(rss.sample(server.pid, time.monotonic() - origin))
    finally:
        if generator.poll() is None:
            generator.kill()
        generator.wait()
        relaying.join(5)
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator exited with {generator.returncode}")
    load: dict[str, Any] = json.loads(out_path.read_text())
    return load, samples


def _curve(samples: list[dict[str, Any]], every: float = 30.0) -> str:
    """The whole tree's RSS about every ``every`` seconds: a plateau reads as a plateau."""
    points: list[str] = []
    due = 0.0
    for sample in samples:
        if sample["s"] >= due:
            points.append(f"{sample['s']:.0f}: {sample['total_kib'] / 1024:.0f}")
            due = sample["s"] + every - 1
    return ", ".join(points)


def memory_summary(samples: list[rss.Sample], root: int, warmup: float) -> dict[str, Any]:
    """RSS at the warm-up sample, at the end and at most, for the tree and each process."""
    baseline = next((s for s in samples if s.seconds >= warmup), samples[0])
    end = samples[-1]
    peak = max(samples, key=lambda s: s.total_kib)
    processes = []
    for process in end.processes:
        before = baseline.of(process.pid)
        processes.append(
            {
                "pid": process.pid,
                "role": "main" if process.pid == root else "worker",
                "command": process.command[:80],
                "warm_kib": before.rss_kib if before else None,
                "end_kib": process.rss_kib,
                "threads_end": process.threads,
                "max_kib": max((p.rss_kib for s in samples if (p := s.of(process.pid))), default=0),
                "growth_percent": (
                    round(rss.growth_percent(before.rss_kib, process.rss_kib), 2)
                    if before
                    else None
                ),
            }
        )
    return {
        "baseline_at_s": round(baseline.seconds, 1),
        "end_at_s": round(end.seconds, 1),
        "warm_kib": baseline.total_kib,
        "end_kib": end.total_kib,
        "max_kib": peak.total_kib,
        "growth_percent": round(rss.growth_percent(baseline.total_kib, end.total_kib), 2),
        "processes": processes,
        "samples": [
            {
                "s": round(s.seconds, 1),
                "total_kib": s.total_kib,
                "by_pid": {str(p.pid): p.rss_kib for p in s.processes},
                "threads": {str(p.pid): p.threads for p in s.processes},
            }
            for s in samples
        ],
    }


def server_cpu_percent(samples: list[rss.Sample]) -> float:
    """The server's CPU use over the load, in percent of one core (200 = both of 2 cores)."""
    first, last = samples[0], samples[-1]
    used = 0.0
    for process in last.processes:
        before = first.of(process.pid)
        used += process.cpu_seconds - (before.cpu_seconds if before else 0.0)
    return round(used * 100 / max(last.seconds - first.seconds, 1e-9), 1)


def check_uploads(server: SoakServer, load: dict[str, Any]) -> dict[str, Any]:
    """Every accepted upload is listed on its project's simple page (every worker's cache)."""
    accepted: dict[str, set[str]] = defaultdict(set)
    for upload in load["uploads"]:
        if upload["status"] == 200:
            accepted[upload["project"]].add(upload["filename"])
    missing: set[str] = set()
    for project, filenames in sorted(accepted.items()):
        # Asked more than once: each request may land on another worker, each with its cache.
        for _ in range(3):
            listed = {f["filename"] for f in simple_json(server.base_url, project)["files"]}
            missing |= filenames - listed
    return {
        "attempted": len(load["uploads"]),
        "accepted": sum(len(f) for f in accepted.values()),
        "missing_from_index": sorted(missing),
    }


def log_errors(server: SoakServer) -> list[str]:
    log = server.root / "serve.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if "Traceback" in line or " ERROR " in line or "ERROR:" in line]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    text: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL':<6} {self.text}"


def verdicts(results: dict[str, Any]) -> list[Verdict]:
    load, memory = results["load"], results["memory"]
    downloads, uploads = results["downloads"], results["uploads"]
    return [
        Verdict(
            load["errors"] == 0,
            f"zero errors: {load['errors']:,} in {load['requests']:,} requests",
        ),
        Verdict(
            memory["growth_percent"] < RSS_GROWTH_LIMIT,
            f"RSS growth < {RSS_GROWTH_LIMIT:.0f}%: {_mib(memory['warm_kib'])} at "
            f"{memory['baseline_at_s']:.0f} s -> {_mib(memory['end_kib'])} at "
            f"{memory['end_at_s']:.0f} s = {memory['growth_percent']:+.2f}%",
        ),
        Verdict(
            downloads["rows_added"] == downloads["served"],
            f"one downloads row per wheel served: {downloads['rows_added']:,} rows for "
            f"{downloads['served']:,} downloads",
        ),
        Verdict(
            not uploads["missing_from_index"]
            and results["release_files_added"] == uploads["accepted"],
            f"every upload in the index: {uploads['accepted']:,} accepted, "
            f"{results['release_files_added']:,} files added, "
            f"{len(uploads['missing_from_index'])} missing from simple pages",
        ),
        Verdict(
            not results["log_errors"],
            f"no error in the server's log: {len(results['log_errors'])} lines",
        ),
    ]


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.1f} MiB"


def render(results: dict[str, Any]) -> str:
    load, memory = results["load"], results["memory"]
    lines = [
        f"{'kind':<14}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}"
        f"{'p99 ms':>10}{'max ms':>10}  statuses",
        "-" * 90,
    ]
    for name, kind in load["kinds"].items():
        lines.append(
            f"{name:<14}{kind['requests']:>10,}{kind['errors']:>8,}"
            + "".join(
                f"{kind[p]:>10,.1f}" if kind[p] is not None else f"{'-':>10}"
                for p in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
            )
            + f"  {kind['statuses']}"
        )
    lines += [
        "-" * 90,
        f"{'all':<14}{load['requests']:>10,}{load['errors']:>8,}",
        "",
        f"{load['requests']:,} requests in {load['seconds']:.0f} s = {load['rps']:,.0f} req/s at "
        f"concurrency {load['concurrency']}; the server's processes used "
        f"{load['server_cpu_percent']:.0f}% of one core, the load generator "
        f"{load['generator_cpu_percent']:.0f}% ({os.cpu_count()} cores in all)",
        "",
        f"RSS of the server's processes (MiB): warm-up ({memory['baseline_at_s']:.0f} s) "
        f"{memory['warm_kib'] / 1024:,.1f}, end ({memory['end_at_s']:.0f} s) "
        f"{memory['end_kib'] / 1024:,.1f}, max {memory['max_kib'] / 1024:,.1f}, "
        f"growth {memory['growth_percent']:+.2f}%",
    ]
    for process in memory["processes"]:
        warm = process["warm_kib"]
        lines.append(
            f"  {process['role']:<7} pid {process['pid']:<8} "
            f"{(warm or 0) / 1024:8.1f} -> {process['end_kib'] / 1024:8.1f} "
            f"(max {process['max_kib'] / 1024:.1f}), {process['threads_end']} threads"
            + (
                f"  {process['growth_percent']:+.2f}%"
                if process["growth_percent"] is not None
                else ""
            )
        )
    lines.append(f"  whole server every 30 s (s: MiB): {_curve(memory['samples'])}")
    for error_kind, kind in load["kinds"].items():
        for example in kind["error_examples"]:
            lines.append(f"  error example, {error_kind}: {example}")
    for line in results["log_errors"][:10]:
        lines.append(f"  server log: {line}")
    lines.append("")
    lines += [verdict.line() for verdict in verdicts(results)]
    return "\n".join(lines)


def soak(options: Options, results: dict[str, Any]) -> None:
    shutil.rmtree(options.workdir, ignore_errors=True)
    options.workdir.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(scratch_database(options.database_url))
        server = SoakServer(options.workdir / "wheelyard", net.free_port(), database_url)
        stack.callback(server.stop)
        results["database"] = sa.make_url(server.database_url).get_backend_name()
        server.prepare()
        seed(server, options, results)
        server.start()
        owned = upload_owned(server, options, results)
        plan = make_plan(server, owned, options)
        results["plan"] = {
            "projects": len(plan.projects),
            "install_targets": len(plan.installs),
        }
        say(
            f"{len(plan.projects)} projects, {len(plan.installs)} wheels to install; "
            f"{options.concurrency} clients for {options.duration:.0f} s"
        )
        files_before = server.count("release_files")
        downloads_before = settled_downloads(server)
        load, samples = run_load(server, plan, options)
        results["load"] = {k: v for k, v in load.items() if k != "uploads"}
        results["memory"] = memory_summary(samples, server.pid, options.warmup)
        results["load"]["server_cpu_percent"] = server_cpu_percent(samples)
        wheel = load["kinds"].get("wheel", {"statuses": {}})
        results["downloads"] = {
            "served": int(wheel["statuses"].get("200", 0)),
            "rows_added": settled_downloads(server) - downloads_before,
        }
        results["uploads"] = check_uploads(server, load)
        results["release_files_added"] = server.count("release_files") - files_before
        results["log_errors"] = log_errors(server)
        say("stopping the server")


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    results: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks.soak", *(argv or sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "notes": [],
    }
    try:
        soak(options, results)
    finally:
        results["machine"]["loadavg_end"] = os.getloadavg()
        options.results.parent.mkdir(parents=True, exist_ok=True)
        options.results.write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(render(results))
    print(
        f"\nload average {results['machine']['loadavg_start']} at the start, "
        f"{results['machine']['loadavg_end']} at the end; raw figures in {options.results}"
    )
    return 0 if all(v.passed for v in verdicts(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
