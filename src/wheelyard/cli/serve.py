"""``wheelyard serve``: the index on granian."""

from __future__ import annotations

import click

from wheelyard.cli.base import upgrade_database
from wheelyard.config import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the index, creating and migrating the database first."""
    from granian import Granian
    from granian.constants import Interfaces

    upgrade_database(settings)
    settings.storage_path.mkdir(parents=True, exist_ok=True)
    click.echo(f"wheelyard serving on http://{host}:{port}/ with {workers} worker(s)")
    Granian(
        "wheelyard.asgi:app_from_env",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
    ).serve()
