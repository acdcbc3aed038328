"""The site flags as the pages see them: this worker's short-lived copy (services/site)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from wheelyard.config import Settings
from wheelyard.services.site.flags import FlagCache, Flags


def site_flags(request: HTTPConnection) -> Flags:
    cache: FlagCache = request.app.state.site_flags
    return cache.current()


def registration_open(request: HTTPConnection) -> bool:
    """Whether anyone may sign up: the admins' flag, else WHEELYARD_REGISTRATION's."""
    settings: Settings = request.app.state.settings
    return site_flags(request).registration_open(settings.registration_open)
