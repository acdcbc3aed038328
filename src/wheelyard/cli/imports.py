"""``wheelyard import``: load projects from elsewhere."""

from __future__ import annotations

import pathlib

import click

from wheelyard.config import Settings


@click.group("import")
def import_() -> None:
    """Load data from elsewhere."""


@import_.command("dists")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.pass_obj
def import_dists(settings: Settings, directory: pathlib.Path) -> None:
    """Register a folder of wheels and sdists (as pypiserver serves one).

    Each file's metadata is read from the file itself and checked as an upload would be.
    One transaction per file, so running it again skips what is already there.
    """
    # Imported here, not at the top: the group's other commands need none of this, and
    # the CLI starts faster without packaging's metadata machinery.
    from collections import Counter

    from rich.console import Console
    from rich.progress import Progress

    from wheelyard.cli.base import print_row_counts, sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services.uploads import archives
    from wheelyard.services.uploads.errors import UploadError
    from wheelyard.services.uploads.incoming import IncomingFile
    from wheelyard.services.uploads.policy import IMPORT_POLICY
    from wheelyard.services.uploads.register import Outcome, register_file
    from wheelyard.storage.factory import create_storage

    paths = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and archives.packagetype_of(path.name) is not None
    )
    storage = create_storage(settings)
    console = Console()
    counts: Counter[str] = Counter()
    with sessions_for(settings) as sessions, Progress(console=console) as progress:
        task = progress.add_task(f"importing {len(paths)} files", total=len(paths))
        for path in paths:
            packagetype = archives.packagetype_of(path.name)
            assert packagetype is not None  # only such paths were listed
            with path.open("rb") as content:
                incoming = IncomingFile(filename=path.name, content=content, filetype=packagetype)
                try:
                    with transaction(sessions) as db:
                        registered = register_file(
                            db,
                            storage,
                            incoming,
                            metadata=None,
                            uploader=None,
                            policy=IMPORT_POLICY,
                        )
                except UploadError as error:
                    counts["refused"] += 1
                    progress.console.print(f"[yellow]skipped[/yellow] {path.name}: {error.message}")
                else:
                    counts[registered.outcome.value] += 1
            progress.advance(task)
    console.print(
        f"{counts[Outcome.STORED.value]} stored, "
        f"{counts[Outcome.ALREADY_PRESENT.value]} already present, "
        f"{counts['refused']} refused"
    )
    print_row_counts(console, settings)


@import_.command("pypi-json")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.pass_obj
def import_pypi_json(settings: Settings, directory: pathlib.Path) -> None:
    """Load PyPI JSON API documents (the body of pypi.org/pypi/NAME/json), one per file.

    Every *.json file under DIRECTORY is one project. Each is imported in its own
    transaction: a document that cannot be read or stored is reported and skipped, and the
    rest go on. Only what is missing is added, so running it again changes nothing.
    """
    from collections import Counter

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress
    from sqlalchemy.exc import SQLAlchemyError

    from wheelyard.cli.base import print_row_counts, sessions_for
    from wheelyard.data.db_session import transaction
    from wheelyard.services.ops.importers import pypi_documents, pypi_json

    paths = sorted(path for path in directory.rglob("*.json") if path.is_file())
    console = Console()
    counts: Counter[str] = Counter()
    with sessions_for(settings) as sessions, Progress(console=console) as progress:
        task = progress.add_task(f"importing {len(paths)} documents", total=len(paths))
        for path in paths:
            try:
                document = pypi_documents.parse_document(path.read_bytes())
                with transaction(sessions) as db:
                    result = pypi_json.import_document(db, document)
            # One bad document (or one the database refuses) must not stop the others.
            except (pypi_documents.DocumentError, OSError, SQLAlchemyError) as error:
                counts["failed documents"] += 1
                # The first line only: the database's errors go on with the whole statement.
                reason = escape(str(error).partition("\n")[0])
                progress.console.print(
                    f"[red]failed[/red] {escape(path.name)}: {reason}", soft_wrap=True
                )
            else:
                counts["new projects"] += result.new_project
                counts["new releases"] += result.releases_added
                counts["new files"] += result.files_added
                counts["files already present"] += result.files_present
                counts["skipped"] += len(result.skipped)
                counts["new users"] += result.users_added
                for skipped in result.skipped:
                    progress.console.print(
                        f"[yellow]skipped[/yellow] {escape(result.project)} "
                        f"{escape(skipped.item)}: {escape(skipped.reason)}",
                        soft_wrap=True,
                    )
            progress.advance(task)
    console.print(
        ", ".join(
            f"{counts[label]} {label}"
            for label in (
                "new projects",
                "new releases",
                "new files",
                "files already present",
                "skipped",
                "new users",
                "failed documents",
            )
        ),
        soft_wrap=True,
    )
    print_row_counts(console, settings)
