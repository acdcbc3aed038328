"""The ``wheelyard`` command. One module per command group; each command owns its transaction."""

from __future__ import annotations

from wheelyard.cli.backup import backup, restore
from wheelyard.cli.base import main
from wheelyard.cli.cache import cache
from wheelyard.cli.check import check
from wheelyard.cli.db import db
from wheelyard.cli.imports import import_
from wheelyard.cli.projects import project
from wheelyard.cli.publishers import publisher
from wheelyard.cli.retention import cleanup, retention_group
from wheelyard.cli.serve import serve
from wheelyard.cli.site import site
from wheelyard.cli.stats import stats
from wheelyard.cli.storage import storage
from wheelyard.cli.teams import team
from wheelyard.cli.tokens import token
from wheelyard.cli.users import user

main.add_command(serve)
main.add_command(db)
main.add_command(user)
main.add_command(token)
main.add_command(project)
main.add_command(publisher)
main.add_command(team)
main.add_command(import_)
main.add_command(stats)
main.add_command(storage)
main.add_command(cache)
main.add_command(site)
main.add_command(check)
main.add_command(backup)
main.add_command(restore)
main.add_command(retention_group)
main.add_command(cleanup)

__all__ = ["main"]
