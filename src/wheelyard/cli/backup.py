"""``wheelyard backup DIR`` and ``wheelyard restore DIR`` (services/ops/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from wheelyard.config import Settings


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def backup(settings: Settings, directory: Path) -> None:
    """Write a consistent snapshot of the index into DIRECTORY (new or empty).

    Safe while the server runs. The database's rows as of one moment, and a list of the
    blobs they name with their sha256; the blobs are copied too for local storage, and
    referenced (checked, not copied) for object storage.
    """
    from wheelyard.services.ops import backup as backups
    from wheelyard.storage.base import StorageError
    from wheelyard.storage.factory import create_storage

    try:
        outcome = backups.backup(
            settings.database_url,
            create_storage(settings),
            directory,
            copy_blobs=settings.storage_url is None,
            progress=click.echo,
        )
    except (backups.BackupError, StorageError) as error:
        raise click.ClickException(str(error)) from error
    kept = "copied" if settings.storage_url is None else "referenced"
    click.echo(
        f"backed up {sum(outcome.rows.values()):,} rows and {outcome.blobs:,} blobs "
        f"({outcome.blob_bytes:,} bytes, {kept}) into {directory}"
    )


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.pass_obj
def restore(settings: Settings, directory: Path) -> None:
    """Fill an empty database and storage from the backup in DIRECTORY.

    Refuses a database that holds anything (or storage that does, when the backup
    copied its blobs): a restore never mixes two indexes.
    """
    from wheelyard.services.ops import backup as backups
    from wheelyard.storage.base import StorageError
    from wheelyard.storage.factory import create_storage

    try:
        outcome = backups.restore(
            directory, settings.database_url, create_storage(settings), progress=click.echo
        )
    except (backups.BackupError, StorageError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"restored {sum(outcome.rows.values()):,} rows and {outcome.blobs:,} blobs "
        f"({outcome.blob_bytes:,} bytes)"
    )
