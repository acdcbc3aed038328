"""``wheelyard stats``: the download rollups: rebuild them from raw rows, prune raw rows."""

from __future__ import annotations

import datetime as dt

import click

from wheelyard.config import Settings


@click.group()
def stats() -> None:
    """Download statistics."""


@stats.command("rebuild")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First UTC day to recompute (default: the day of the oldest raw download).",
)
@click.pass_obj
def stats_rebuild(settings: Settings, since: dt.datetime | None) -> None:
    """Recompute the daily download counts from the raw download rows.

    For downloads stored before the rollups existed, or imported. Days older than the
    oldest raw row keep their counts: their raw rows are gone. One transaction per day, so
    the running server's download recording waits a moment at most.
    """
    # Imported here: the other commands need none of it, and the CLI starts faster.
    from rich.console import Console
    from rich.progress import Progress

    from wheelyard.cli.base import sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services.analytics import rebuild

    console = Console()
    wanted = since.date() if since is not None else None
    with sessions_for(settings) as sessions:
        with transaction(sessions) as db:
            days = rebuild.rebuild_days(db, wanted)
        if not days:
            console.print("no raw downloads: nothing to rebuild")
            return
        if wanted is not None and days[0] > wanted:
            console.print(f"raw downloads start on {days[0]}; earlier days keep their counts")
        counted = 0
        with Progress(console=console) as progress:
            task = progress.add_task(f"rebuilding {len(days)} days", total=len(days))
            for day in days:
                with transaction(sessions) as db:
                    counted += rebuild.rebuild_day(db, day)
                progress.advance(task)
    console.print(f"rebuilt {days[0]} to {days[-1]}: {counted:,} downloads counted")


@stats.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    help="Keep this many days of raw rows (default: WHEELYARD_DOWNLOAD_RETENTION_DAYS, 180).",
)
@click.pass_obj
def stats_prune(settings: Settings, days: int | None) -> None:
    """Delete raw download rows older than the retention period; the daily counts stay."""
    from wheelyard.cli.base import sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services.analytics import classification, retention

    keep = days if days is not None else settings.download_retention_days
    if keep < 0:
        raise click.ClickException(f"the retention must be 0 or more days, not {keep}")
    if keep == 0:
        click.echo("retention is 0 days: raw downloads are kept forever")
        return
    cutoff = retention.retention_cutoff(keep)
    deleted = 0
    with sessions_for(settings) as sessions:
        with transaction(sessions) as db:
            uncounted = classification.unclassified_before(db, cutoff)
        if uncounted:
            # Deleting them would lose downloads no rollup has counted.
            raise click.ClickException(
                f"{uncounted:,} downloads before {cutoff:%Y-%m-%d} are not in the daily "
                "counts yet: run `wheelyard stats rebuild` first"
            )
        # Batches, each its own transaction: the server's recorder keeps writing meanwhile.
        while True:
            with transaction(sessions) as db:
                removed = retention.prune_downloads(db, cutoff)
            deleted += removed
            if removed == 0:
                break
    click.echo(f"deleted {deleted:,} raw downloads from before {cutoff:%Y-%m-%d}")
