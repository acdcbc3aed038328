"""The soak's load generator, run by ``benchmarks.soak`` in a process of its own.

``--concurrency`` clients, each one request at a time for ``--duration`` seconds, pick an
action at random: an install as pip does it (the project's simple page, HTML or PEP 691
JSON by ``Accept``; the file's PEP 658 ``.metadata``; the wheel), a page view (home,
project page, search, stats pages, JSON API) or, rarely, an upload of a new generated wheel
through the legacy API with the API token, with the fields twine itself sends. A client
starts no action after the deadline but finishes the one it is in, so no download is cut
off halfway and every download served can be counted against the ``downloads`` table.

It writes what it saw as JSON: per kind of request the statuses and latency percentiles,
every error (a status outside 2xx/3xx, or a connection error) with a few example bodies, and
every upload with its answer. Its own CPU time goes in too: near 100% of one core would
mean the generator, not the server, set the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks import net, wheels

HTML = "text/html"
# What pip sends: JSON preferred, HTML accepted.
SIMPLE_JSON = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
INSTALL_SHARE = 0.55  # of the actions; page views take what uploads and installs leave
PAGE_KINDS = ("home", "project_page", "search", "stats", "project_stats", "json_api")
REQUEST_TIMEOUT = 120.0
PROGRESS_EVERY = 10.0
ERROR_EXAMPLES = 5


@dataclass(frozen=True)
class InstallTarget:
    project: str
    file_url: str
    has_metadata: bool


@dataclass(frozen=True)
class Plan:
    """Everything the generator needs to know about the server under load."""

    base_url: str
    duration: float
    concurrency: int
    seed: int
    installs: list[InstallTarget]
    projects: list[str]
    search_terms: list[str]
    upload_url: str
    token: str
    upload_share: float
    # Uploads add versions to these projects and, as often, create new projects.
    upload_projects: list[str]
    new_project_prefix: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw = json.loads(text)
        raw["installs"] = [InstallTarget(**target) for target in raw["installs"]]
        return cls(**raw)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 < fraction <= 1)."""
    if not ordered:
        raise ValueError("no values")
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil without floats drifting below
    return ordered[int(rank) - 1]


def is_error(status: int) -> bool:
    """Anything but a success or a redirect counts against the server; no refusal is expected
    here, since every request the generator makes is one the index should answer."""
    return not 200 <= status < 400


@dataclass
class KindTally:
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common()),
            "error_examples": self.error_examples,
            **{
                name: round(percentile(ordered, q), 2) if ordered else None
                for name, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))
            },
            "max_ms": round(ordered[-1], 2) if ordered else None,
        }


class Tally:
    def __init__(self) -> None:
        self.kinds: dict[str, KindTally] = {}
        self.requests = 0
        self.errors = 0
        self.uploads: list[dict[str, Any]] = []

    def kind(self, name: str) -> KindTally:
        return self.kinds.setdefault(name, KindTally())

    def answered(self, kind: str, status: int, elapsed_ms: float, body: bytes) -> None:
        tally = self.kind(kind)
        self.requests += 1
        tally.requests += 1
        tally.statuses[status] += 1
        tally.latencies_ms.append(elapsed_ms)
        if is_error(status):
            self.errors += 1
            tally.errors[f"HTTP {status}"] += 1
            if len(tally.error_examples) < ERROR_EXAMPLES:
                tally.error_examples.append(f"{status}: {body[:300]!r}")

    def failed(self, kind: str, error: BaseException) -> None:
        tally = self.kind(kind)
        self.requests += 1
        tally.requests += 1
        self.errors += 1
        label = type(error).__name__
        tally.errors[label] += 1
        if len(tally.error_examples) < ERROR_EXAMPLES:
            tally.error_examples.append(f"{label}: {error}")


class Client:
    """One simulated user: an action at a time until the deadline."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        plan: Plan,
        tally: Tally,
        rng: random.Random,
        numbers: Iterator[int],
        scratch: Path,
    ) -> None:
        self.session = session
        self.plan = plan
        self.tally = tally
        self.rng = rng
        self.numbers = numbers
        self.scratch = scratch

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            roll = self.rng.random()
            if roll < self.plan.upload_share:
                await self.upload()
            elif roll < self.plan.upload_share + INSTALL_SHARE:
                await self.install()
            else:
                await self.page_view()

    async def fetch(
        self,
        kind: str,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> int | None:
        started = time.perf_counter()
        body = b""
        try:
            async with self.session.request(
                method, url, headers=headers, data=data, allow_redirects=False
            ) as response:
                # Read to the end, in chunks: a wheel need not sit in memory whole.
                async for chunk in response.content.iter_chunked(64 * 1024):
                    if len(body) < 512:
                        body += chunk[:512]
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            self.tally.failed(kind, error)
            return None
        self.tally.answered(kind, status, (time.perf_counter() - started) * 1000, body)
        return status

    async def install(self) -> None:
        target = self.rng.choice(self.plan.installs)
        simple = f"{self.plan.base_url}/simple/{target.project}/"
        if self.rng.random() < 0.5:
            await self.fetch("simple_html", simple, headers={"Accept": HTML})
        else:
            await self.fetch("simple_json", simple, headers={"Accept": SIMPLE_JSON})
        if target.has_metadata:
            await self.fetch("metadata", target.file_url + ".metadata")
        await self.fetch("wheel", target.file_url)

    async def page_view(self) -> None:
        kind = self.rng.choice(PAGE_KINDS)
        project = self.rng.choice(self.plan.projects)
        paths = {
            "home": "/",
            "project_page": f"/project/{project}/",
            "search": f"/search?q={self.rng.choice(self.plan.search_terms)}",
            "stats": "/stats/",
            "project_stats": f"/project/{project}/stats/",
            "json_api": f"/pypi/{project}/json",
        }
        await self.fetch(kind, self.plan.base_url + paths[kind], headers={"Accept": HTML})

    async def upload(self) -> None:
        number = next(self.numbers)
        if number % 2 == 0:
            wheel = wheels.TinyWheel(self.rng.choice(self.plan.upload_projects), f"9.0.{number}")
        else:
            wheel = wheels.TinyWheel(f"{self.plan.new_project_prefix}-{number:05d}", "1.0.0")
        # Building the wheel and reading it back as twine does takes a few milliseconds:
        # off the event loop, so the other clients keep going.
        content_type, body = await asyncio.to_thread(self.twine_body, wheel)
        headers = {
            "Content-Type": content_type,
            "Authorization": net.basic_auth("__token__", self.plan.token),
        }
        status = await self.fetch(
            "upload", self.plan.upload_url, method="POST", headers=headers, data=body
        )
        self.tally.uploads.append(
            {"project": wheel.project, "filename": wheel.filename, "status": status}
        )

    def twine_body(self, wheel: wheels.TinyWheel) -> tuple[str, bytes]:
        path = self.scratch / wheel.filename
        path.write_bytes(wheels.build(wheel))
        try:
            return net.multipart(twine_fields(path), wheel.filename, path.read_bytes())
        finally:
            path.unlink()


def twine_fields(path: Path) -> list[tuple[str, str]]:
    """The form fields ``twine upload`` sends for ``path``, made by twine's own code (7.x):
    its metadata dictionary turned into fields, then the action and the protocol version."""
    from twine.package import PackageFile
    from twine.repository import Repository

    metadata = PackageFile.from_filename(str(path), None).metadata_dictionary()
    fields = Repository._convert_metadata_to_list_of_tuples(metadata)
    fields += [(":action", "file_upload"), ("protocol_version", "1")]
    return [(name, str(value)) for name, value in fields]


async def report_progress(tally: Tally, started: float, deadline: float) -> None:
    last_requests, last_time = 0, started
    while time.monotonic() < deadline:
        await asyncio.sleep(PROGRESS_EVERY)
        now = time.monotonic()
        rate = (tally.requests - last_requests) / (now - last_time)
        print(
            f"load: {now - started:5.0f} s, {tally.requests:,} requests, {rate:,.0f} req/s, "
            f"{tally.errors:,} errors",
            flush=True,
        )
        last_requests, last_time = tally.requests, now


async def soak(plan: Plan) -> dict[str, Any]:
    tally = Tally()
    numbers = itertools.count()
    connector = aiohttp.TCPConnector(limit=plan.concurrency, limit_per_host=plan.concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    with tempfile.TemporaryDirectory(prefix="wheelyard-soak-") as scratch:
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:
            started = time.monotonic()
            deadline = started + plan.duration
            cpu_before = _cpu_seconds()
            print("load: started", flush=True)
            clients = [
                Client(
                    session,
                    plan,
                    tally,
                    random.Random(plan.seed * 1000 + n),
                    numbers,
                    Path(scratch),
                )
                for n in range(plan.concurrency)
            ]
            progress = asyncio.create_task(report_progress(tally, started, deadline))
            await asyncio.gather(*(client.run(deadline) for client in clients))
            elapsed = time.monotonic() - started
            progress.cancel()
            cpu = _cpu_seconds() - cpu_before
    return {
        "seconds": round(elapsed, 2),
        "concurrency": plan.concurrency,
        "requests": tally.requests,
        "rps": round(tally.requests / elapsed, 1),
        "errors": tally.errors,
        "generator_cpu_seconds": round(cpu, 1),
        "generator_cpu_percent": round(cpu * 100 / elapsed, 1),
        "kinds": {name: kind.summary() for name, kind in sorted(tally.kinds.items())},
        "uploads": tally.uploads,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_loop(work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """On uvloop when it is there (granian's workers use it too): a cheaper event loop
    leaves more of the shared cores to the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", type=Path, help="the plan, as JSON (written by benchmarks.soak)")
    parser.add_argument("results", type=Path, help="where to write what was seen, as JSON")
    args = parser.parse_args(argv)
    plan = Plan.from_json(args.plan.read_text())
    results = run_loop(soak(plan))
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
