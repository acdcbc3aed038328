"""``wheelyard cache``: the pull-through cache of the upstreams: evicting it, warming it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from wheelyard.config import Settings

SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?")


class ByteSize(click.ParamType[int]):
    """``500M``, ``2G``, ``1.5G``, ``100K`` or plain bytes; binary multiples (M is MiB)."""

    name = "SIZE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.fullmatch(str(value).strip().lower())
        if match is None:
            self.fail(f"{value!r} is not a size such as 500M, 2G or a number of bytes", param, ctx)
        return int(float(match[1]) * SIZE_UNITS[match[2]])


def describe_size(size: int) -> str:
    for unit in ("T", "G", "M", "K"):
        step = SIZE_UNITS[unit.lower()]
        if size >= step:
            return f"{size / step:.1f}{unit}"
    return f"{size}B"


def _migrated(settings: Settings) -> None:
    """The schema brought to head first, as ``serve`` does, so a fresh var dir works."""
    from wheelyard.cli.base import upgrade_database
    from wheelyard.cli.serve import migrating_alone

    with migrating_alone(settings.database_url):
        upgrade_database(settings)


@click.group()
def cache() -> None:
    """The cache of upstream projects (WHEELYARD_UPSTREAM_URL)."""


@cache.command("prune")
@click.option(
    "--max-size",
    type=ByteSize(),
    help="Remove the least recently downloaded upstream files until the cache holds at "
    "most this (500M, 2G).",
)
@click.option(
    "--unused-for",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Also remove the upstream files not downloaded for this many days.",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.pass_obj
def cache_prune(
    settings: Settings, max_size: int | None, unused_for: int | None, dry_run: bool
) -> None:
    """Evict cached upstream files, least recently downloaded first.

    Local release files are never touched. The projects' pages stay: a later download of
    an evicted file fetches it from the upstream again.
    """
    from wheelyard.cli.base import sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services import clock
    from wheelyard.services.upstream import eviction
    from wheelyard.storage.base import StorageError
    from wheelyard.storage.factory import create_storage

    if max_size is None and unused_for is None:
        raise click.UsageError("give --max-size, --unused-for or both")
    _migrated(settings)
    storage = create_storage(settings)
    unused_before = clock.now() - dt.timedelta(days=unused_for) if unused_for is not None else None
    removed = removed_bytes = 0
    try:
        with sessions_for(settings) as sessions:
            with transaction(sessions, writes=False) as db:
                plan = eviction.plan(db, max_size, unused_before)
            click.echo(
                f"the cache holds {plan.total_bytes:,} bytes ({describe_size(plan.total_bytes)}); "
                f"{len(plan.evict)} files ({plan.evicted_bytes:,} bytes) to remove"
            )
            for file in plan.evict:
                used = file.last_used.strftime("%Y-%m-%d %H:%M") if file.last_used else "never"
                if dry_run:
                    click.echo(f"would remove {file.filename} ({file.size:,} bytes, used {used})")
                    continue
                # The row first, committed; then the blob, unless a row took it back.
                with transaction(sessions) as db:
                    if not eviction.forget(db, file):
                        click.echo(f"kept {file.filename}: downloaded meanwhile")
                        continue
                with transaction(sessions, writes=False) as db:
                    eviction.delete_blob(db, storage, file.storage_path)
                removed += 1
                removed_bytes += file.size
                click.echo(f"removed {file.filename} ({file.size:,} bytes, used {used})")
    except StorageError as error:
        raise click.ClickException(str(error)) from error
    if not dry_run:
        click.echo(f"removed {removed} files ({removed_bytes:,} bytes)")


@cache.command("warm")
@click.option(
    "-r",
    "--requirement",
    "requirement_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="A pip requirements file (may be given more than once).",
)
@click.pass_obj
def cache_warm(settings: Settings, requirement_files: tuple[Path, ...]) -> None:
    """Fetch ahead the pages and files pip would need for the requirements.

    For each requirement, every file (wheels, sdist, core metadata) of the newest version it
    admits that is not held back. Dependencies are not followed: give a fully pinned file
    (pip freeze, pip-compile). Fails, after trying all, naming each that could not be warmed.
    """
    from wheelyard.cli.base import sessions_for
    from wheelyard.cli.cache_warming import Warmer
    from wheelyard.services.upstream.warming import RequirementsError, parse_requirements

    if not settings.upstream_urls:
        raise click.ClickException("no upstream is configured (WHEELYARD_UPSTREAM_URL)")
    lines = []
    for path in requirement_files:
        try:
            lines.extend(parse_requirements(path.read_text()))
        except RequirementsError as error:
            raise click.ClickException(f"{path}: {error}") from None
    _migrated(settings)
    failures = []
    with sessions_for(settings) as sessions, Warmer(settings, sessions) as warmer:
        for line in lines:
            failure = warmer.warm(line.requirement)
            if failure is not None:
                click.echo(f"{line.requirement}: {failure}", err=True)
                failures.append(f"{line.requirement.name}: {failure}")
    click.echo(f"fetched {warmer.fetched} files ({warmer.fetched_bytes:,} bytes)")
    if failures:
        raise click.ClickException(
            f"{len(failures)} of {len(lines)} requirements not warmed: " + "; ".join(failures)
        )
