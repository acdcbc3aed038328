"""``wheelyard token``: API tokens for uploads."""

from __future__ import annotations

import click


@click.group()
def token() -> None:
    """API tokens."""
