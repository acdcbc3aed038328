"""``wheelyard storage``: the file storage: collecting the blobs no file refers to."""

from __future__ import annotations

import datetime as dt

import click

from wheelyard.config import Settings


@click.group()
def storage() -> None:
    """File storage."""


@storage.command("gc")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--min-age",
    type=click.IntRange(min=0),
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help="Spare blobs written more recently than this: an upload may be about to commit them.",
)
@click.pass_obj
def storage_gc(settings: Settings, dry_run: bool, min_age: int) -> None:
    """Remove blobs that no release file refers to, and pieces of interrupted writes.

    Such blobs are left by a crash during an upload, and by deleted files' metadata. Safe
    while the server runs: a blob younger than --min-age is never removed.
    """
    from wheelyard.cli.base import sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services import clock
    from wheelyard.services.ops import storage_gc
    from wheelyard.storage.base import StorageError
    from wheelyard.storage.factory import create_storage

    files = create_storage(settings)
    cutoff = clock.aware_now() - dt.timedelta(seconds=min_age)
    try:
        # Never migrate here: pointed at the wrong database, an empty schema would make
        # every blob look like an orphan.
        with sessions_for(settings, migrate=False) as sessions:
            with transaction(sessions, writes=False) as db:
                found = storage_gc.survey(db, files, cutoff)
            click.echo(
                f"{found.referenced} blobs referenced, {found.young} unreferenced but younger "
                f"than {min_age}s, {len(found.orphans)} orphans ({found.orphan_bytes:,} bytes)"
            )
            if dry_run:
                for blob in found.orphans:
                    click.echo(f"would remove {blob.path}")
                return
            removed = 0
            for blob in found.orphans:
                # A transaction per blob: each check sees the uploads committed meanwhile.
                with transaction(sessions, writes=False) as db:
                    if storage_gc.remove_orphan(db, files, blob.path, cutoff):
                        removed += 1
                        click.echo(f"removed {blob.path}")
            leftovers = files.remove_leftovers(cutoff)
    except (storage_gc.NoSchema, StorageError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"removed {removed} orphans and {leftovers} pieces of interrupted writes")
