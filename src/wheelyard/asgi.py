"""Entry point for ASGI servers.

``granian --interface asgi --factory wheelyard.asgi:app_from_env`` runs it from the environment.
"""

from __future__ import annotations

from starlette.applications import Starlette

from wheelyard.app import create_app
from wheelyard.config import Settings


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
