"""``wheelyard check``: the settings and connections, checked before a start."""

from __future__ import annotations

import os

import click


@click.command()
def check() -> None:
    """Check the settings and what they connect to, one line each; exit 1 on a problem.

    Changes nothing: pending migrations are reported (the next start applies them), a
    missing database, storage or secret key is reported as what the first start creates.
    """
    from wheelyard.services.ops import preflight

    found = preflight.run_all(os.environ)
    for item in found:
        click.echo(f"{'ok' if item.ok else 'problem'}: {item.name}: {item.detail}")
    problems = sum(not item.ok for item in found)
    if problems:
        click.echo(f"{problems} problem{'s' if problems != 1 else ''}", err=True)
        raise SystemExit(1)
