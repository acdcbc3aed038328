"""``wheelyard import``: load projects from elsewhere."""

from __future__ import annotations

import click


@click.group("import")
def import_() -> None:
    """Load data from elsewhere."""
