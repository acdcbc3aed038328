"""Fill a scratch database with generated projects, then time project searches on it.

    .venv/bin/python benchmarks/generate_projects.py \\
        --database-url sqlite:////tmp/search-bench.db --count 1000000 --measure

    createdb -h 127.0.0.1 -U postgres search_bench
    .venv/bin/python benchmarks/generate_projects.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/search_bench \\
        --count 1000000 --measure

The schema is built by wheelyard's migrations (as ``wheelyard db upgrade`` builds it); the
rows go in with executemany in large batches on SQLite and COPY on PostgreSQL, so the search
index is filled by the same triggers and generated column that fill it in production.
``--count 0 --measure`` times an already filled database again.

Projects are made of words drawn from one Zipf-Mandelbrot distribution (p(rank) ~ 1 /
(rank + 10)): about 120 words that read like PyPI summaries ("python", "django", "client",
...) at the head, then tens of thousands of made-up words. That puts the commonest word in
roughly 40% of projects and the rarest in a handful, as real package text does. Each project
has a name of one to three words, a 4-12 word summary, a 20-60 word description, up to four
keywords, a license (or none), one or two languages and a few trove classifiers. The same
seed gives the same projects.

``--measure`` times ``wheelyard.services.discovery.search.search`` (page 1, 20 per page, with the
license and language facets, as the search page asks for them) for 50 queries: rare words,
common words, exact project names and two-word queries. Every query runs once to warm the
caches, then ``--repeat`` times (3); a query's time is the median of its runs, which keeps
one hiccup of a shared machine from counting as the query's cost. It prints each category's
median, p95 and maximum, the p95 over all 50, and the load average around the runs, in
wall-clock time and in CPU time (of this process, and of the PostgreSQL server process when
the server runs on the same machine): on a shared machine the CPU time still tells what a
search costs when other programs keep the CPUs busy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session

from wheelyard.data.db_session import create_engine
from wheelyard.services.discovery import search
from wheelyard.services.naming import normalize_name
from wheelyard.services.ops import schema

# The head of the distribution, commonest first.
HEAD_WORDS = [
    "python",
    "library",
    "client",
    "api",
    "data",
    "tools",
    "framework",
    "django",
    "web",
    "simple",
    "utilities",
    "package",
    "module",
    "server",
    "test",
    "plugin",
    "wrapper",
    "interface",
    "async",
    "http",
    "json",
    "command",
    "line",
    "fast",
    "parser",
    "support",
    "extension",
    "flask",
    "file",
    "database",
    "model",
    "sdk",
    "toolkit",
    "config",
    "cloud",
    "image",
    "aws",
    "network",
    "manager",
    "generator",
    "helper",
    "service",
    "google",
    "text",
    "system",
    "tool",
    "based",
    "easy",
    "testing",
    "analysis",
    "machine",
    "learning",
    "deep",
    "neural",
    "processing",
    "pandas",
    "numpy",
    "scientific",
    "plot",
    "graph",
    "visualization",
    "html",
    "xml",
    "yaml",
    "markdown",
    "template",
    "engine",
    "orm",
    "sql",
    "postgres",
    "sqlite",
    "redis",
    "queue",
    "task",
    "worker",
    "scheduler",
    "logging",
    "monitoring",
    "metrics",
    "security",
    "auth",
    "oauth",
    "token",
    "crypto",
    "encryption",
    "hash",
    "cache",
    "storage",
    "s3",
    "azure",
    "docker",
    "kubernetes",
    "deploy",
    "build",
    "packaging",
    "cli",
    "terminal",
    "shell",
    "console",
    "gui",
    "widget",
    "game",
    "audio",
    "video",
    "stream",
    "socket",
    "protocol",
    "rest",
    "graphql",
    "grpc",
    "schema",
    "validation",
    "serialization",
    "types",
    "typing",
    "lint",
    "format",
]
TAIL_WORDS = 60_000
# p(rank) ~ 1 / (rank + OFFSET): the offset flattens the head so the top word is not in
# every document, as stop words would be.
OFFSET = 10
SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "te",
    "lu",
    "zan",
    "pel",
    "dor",
    "vi",
    "qua",
    "sen",
    "bri",
    "tok",
    "fy",
    "mor",
    "gal",
    "nex",
    "pra",
    "sul",
    "wen",
    "xo",
    "yar",
    "cel",
    "dru",
    "ith",
    "bel",
    "cor",
    "fen",
    "gir",
    "hov",
    "jas",
    "kel",
    "lom",
    "nur",
    "ost",
    "pim",
    "rav",
    "sil",
    "tem",
    "umb",
    "vor",
    "wix",
    "zet",
]
LICENSES = (
    ("MIT", 35),
    ("Apache-2.0", 20),
    ("BSD-3-Clause", 10),
    ("GPL-3.0-or-later", 5),
    ("LGPL-3.0-or-later", 2),
    ("MPL-2.0", 2),
    ("ISC", 1),
    ("Unlicense", 1),
    (None, 24),
)
LANGUAGES = (("Python 3", 80), ("Python 2", 8), ("Python", 6), ("Cython", 3), ("Rust", 2), ("C", 1))
CLASSIFIERS = (
    "Development Status :: 3 - Alpha",
    "Development Status :: 4 - Beta",
    "Development Status :: 5 - Production/Stable",
    "Intended Audience :: Developers",
    "Intended Audience :: Science/Research",
    "Operating System :: OS Independent",
    "Framework :: Django",
    "Framework :: Flask",
    "Framework :: AsyncIO",
    "Topic :: Software Development :: Libraries",
    "Topic :: Internet :: WWW/HTTP",
    "Topic :: Scientific/Engineering",
    "Typing :: Typed",
)
BATCH_SIZE = 20_000


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    summary: str
    description: str
    keywords: str | None
    license_id: str | None
    languages: tuple[str, ...]
    classifiers: tuple[str, ...]


class Vocabulary:
    def __init__(self, rng: random.Random) -> None:
        made_up: set[str] = set()
        head = set(HEAD_WORDS)
        while len(made_up) < TAIL_WORDS:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in head:
                made_up.add(word)
        tail = sorted(made_up)
        rng.shuffle(tail)
        self.words: list[str] = [*HEAD_WORDS, *tail]
        weights = (1 / (rank + OFFSET) for rank in range(1, len(self.words) + 1))
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def sample(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def at_rank(self, start: int, stop: int, count: int) -> list[str]:
        return self.rng.sample(self.words[start:stop], count)


def _weighted(rng: random.Random, choices: Sequence[tuple[str | None, int]]) -> str | None:
    values = [value for value, _ in choices]
    return rng.choices(values, weights=[weight for _, weight in choices])[0]


def generate(count: int, seed: int) -> Iterator[Project]:
    rng = random.Random(seed)
    vocabulary = Vocabulary(rng)
    seen: set[str] = set()
    separators = "-_."
    for _ in range(count):
        parts = vocabulary.sample(rng.randint(1, 3))
        name = rng.choice(separators).join(parts)
        while normalize_name(name) in seen:
            # Real indexes are full of "foo2" and "foo-ng": a suffix makes a taken name new.
            name = f"{name}{rng.choice(separators)}{rng.randint(2, 9999)}"
        project_id = normalize_name(name)
        seen.add(project_id)
        languages = {_weighted(rng, LANGUAGES) for _ in range(rng.randint(1, 2))}
        yield Project(
            id=project_id,
            name=name,
            summary=" ".join(vocabulary.sample(rng.randint(4, 12))).capitalize(),
            description=" ".join(vocabulary.sample(rng.randint(20, 60))),
            keywords=",".join(vocabulary.sample(rng.randint(0, 4))) or None,
            license_id=_weighted(rng, LICENSES),
            languages=tuple(sorted(language for language in languages if language)),
            classifiers=tuple(rng.sample(CLASSIFIERS, rng.randint(1, 4))),
        )


def _batches(projects: Iterator[Project], size: int) -> Iterator[list[Project]]:
    while batch := list(itertools.islice(projects, size)):
        yield batch


def _lookup_rows(connection: sa.Connection) -> None:
    licenses = [{"id": name} for name, _ in LICENSES if name]
    languages = [{"id": name} for name, _ in LANGUAGES]
    connection.execute(sa.text("INSERT INTO licenses (id) VALUES (:id)"), licenses)
    connection.execute(sa.text("INSERT INTO languages (id) VALUES (:id)"), languages)


# A batch of rows for one table: "table (column, ...)" and the rows, in column order.
Rows = tuple[str, Iterable[Sequence[object]]]


def project_rows(batch: Sequence[Project]) -> list[Rows]:
    """The rows of ``batch`` in the project tables (packages, languages, classifiers)."""
    return [
        (
            "packages (id, name, summary, description, keywords, license_id)",
            ((p.id, p.name, p.summary, p.description, p.keywords, p.license_id) for p in batch),
        ),
        (
            "package_languages (package_id, language_id)",
            ((p.id, language) for p in batch for language in p.languages),
        ),
        (
            "package_classifiers (package_id, classifier)",
            ((p.id, classifier) for p in batch for classifier in p.classifiers),
        ),
    ]


def _sqlite_value(value: object) -> object:
    # As SQLAlchemy stores them on SQLite: text with microseconds, ISO dates.
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(value)


def _copy_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    for row in rows:
        out.write("\t".join(_copy_field(value) for value in row) + "\n")
    return out.getvalue()


def write_rows(connection: DBAPIConnection, dialect: str, tables: Iterable[Rows]) -> None:
    """Write each table's rows in one transaction: COPY on PostgreSQL, executemany on SQLite."""
    cursor = connection.cursor()
    try:
        if dialect == "sqlite":
            cursor.execute("BEGIN")
        for target, rows in tables:
            if dialect == "postgresql":
                with cursor.copy(f"COPY {target} FROM STDIN") as copy:  # type: ignore[attr-defined]
                    copy.write(_copy_text(rows))
            else:
                width = target.count(",") + 1
                cursor.executemany(
                    f"INSERT INTO {target} VALUES ({', '.join('?' * width)})",  # noqa: S608 - our own table names
                    [tuple(_sqlite_value(value) for value in row) for row in rows],
                )
        if dialect == "sqlite":
            cursor.execute("COMMIT")
        else:
            connection.commit()
    finally:
        cursor.close()


def _insert(engine: sa.Engine, batches: Iterator[list[Project]]) -> int:
    written = 0
    raw = engine.raw_connection()
    try:
        for batch in batches:
            write_rows(raw.dbapi_connection, engine.dialect.name, project_rows(batch))  # type: ignore[arg-type]
            written += len(batch)
            _progress(written)
    finally:
        raw.close()
    return written


def _progress(written: int) -> None:
    print(f"\r{written:,} projects", end="", file=sys.stderr, flush=True)


def fill(engine: sa.Engine, count: int, seed: int, batch_size: int) -> None:
    started = time.perf_counter()
    schema.upgrade(engine)
    with engine.begin() as connection:
        already = connection.scalar(sa.text("SELECT count(*) FROM packages")) or 0
        if already:
            sys.exit(f"the database already has {already:,} projects; use an empty one")
        _lookup_rows(connection)
    batches = _batches(generate(count, seed), batch_size)
    written = _insert(engine, batches)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
    else:
        with engine.begin() as connection:
            # Merge the FTS5 segments written batch by batch, as a quiet night would.
            connection.exec_driver_sql("INSERT INTO packages_fts(packages_fts) VALUES('optimize')")
            connection.exec_driver_sql("ANALYZE")
    print(f"\r{written:,} projects in {time.perf_counter() - started:,.0f} s", file=sys.stderr)


@dataclass(frozen=True)
class Probe:
    kind: str
    text: str


def probes(db: Session, seed: int) -> list[Probe]:
    rng = random.Random(seed + 1)
    vocabulary = Vocabulary(random.Random(seed))
    vocabulary.rng = rng
    head = len(HEAD_WORDS)
    names = rng.sample(list(db.scalars(sa.text("SELECT id FROM packages LIMIT 200000"))), 12)
    return [
        *(Probe("rare word", w) for w in vocabulary.at_rank(head + 40_000, head + 60_000, 13)),
        *(Probe("common word", w) for w in vocabulary.at_rank(0, 30, 13)),
        *(Probe("exact name", name) for name in names),
        *(
            Probe("two words", f"{a} {b}")
            for a, b in zip(
                vocabulary.at_rank(0, 60, 12), vocabulary.at_rank(60, head, 12), strict=True
            )
        ),
    ]


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


class CpuClock:
    """CPU time used by this process and, when PostgreSQL runs on this machine, by the server
    process serving our connection. Unlike wall-clock time it does not grow while other
    programs hold the CPUs, so it tells the cost of a search on a busy shared machine."""

    def __init__(self, db: Session) -> None:
        self.server: Path | None = None
        if db.get_bind().dialect.name == "postgresql":
            pid = db.scalar(sa.text("SELECT pg_backend_pid()"))
            comm = Path(f"/proc/{pid}/comm")
            if comm.exists() and comm.read_text().strip() == "postgres":
                self.server = Path(f"/proc/{pid}/schedstat")

    def now(self) -> float:
        seconds = time.process_time()
        if self.server is not None:
            # The first field: nanoseconds spent running.
            seconds += int(self.server.read_text().split()[0]) / 1e9
        return seconds


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]


def measure(engine: sa.Engine, seed: int, page_size: int, repeat: int) -> None:
    with Session(engine) as db:
        total = db.scalar(sa.text("SELECT count(*) FROM packages")) or 0
        queries = probes(db, seed)
        clock = CpuClock(db)
        for probe in queries:  # warm-up
            search.search(db, probe.text, 1, page_size)
        timings: dict[str, Timing] = {}
        cpu_of = "this process" + (" and its PostgreSQL server process" if clock.server else "")
        print(
            f"{engine.dialect.name}, {total:,} projects, page 1 of {page_size}, median of "
            f"{repeat} runs per query, CPU time of {cpu_of}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        for probe in queries:
            walls, cpus = [], []
            for _ in range(repeat):
                started, cpu_started = time.perf_counter(), clock.now()
                results = search.search(db, probe.text, 1, page_size)
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((clock.now() - cpu_started) * 1000)
            timing = timings.setdefault(probe.kind, Timing([], []))
            timing.wall.append(statistics.median(walls))
            timing.cpu.append(statistics.median(cpus))
            shown = f"{results.page.total:,}{'+' if results.capped else ''}"
            print(
                f"  {timing.wall[-1]:7.1f} ms wall {timing.cpu[-1]:7.1f} ms CPU  "
                f"{probe.kind:<11}  {probe.text!r}: {shown} found"
            )
    print(f"  load average now {os.getloadavg()[0]:.1f}")
    print(f"  {'':12}{'wall-clock time':^27}   {'CPU time':^27}")
    print(f"  {'kind':<12}" + f"{'median':>9}{'p95':>9}{'max':>9}" * 2)
    every = Timing([], [])
    for kind, timing in [*timings.items(), ("all", every)]:
        if kind != "all":
            every.wall.extend(timing.wall)
            every.cpu.extend(timing.cpu)
        columns = (
            f"{statistics.median(values):7.1f}ms{_p95(values):7.1f}ms{max(values):7.1f}ms"
            for values in (timing.wall, timing.cpu)
        )
        print(f"  {kind:<12}" + "   ".join(columns))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty scratch database")
    parser.add_argument("--count", type=int, default=1_000_000, help="projects to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--measure", action="store_true", help="time searches afterwards")
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query")
    options = parser.parse_args(argv)
    engine = create_engine(options.database_url)
    try:
        if options.count:
            fill(engine, options.count, options.seed, options.batch_size)
        if options.measure:
            measure(engine, options.seed, options.page_size, options.repeat)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
