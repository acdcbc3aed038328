"""The application as tests run it: on the test's own sessions, the recorder held back."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from wheelyard.app import create_app
from wheelyard.config import Settings


def app_for(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    """``create_app(settings)`` reading and writing through ``sessions``.

    Every session in a test shares one connection: the recorder's thread must not write
    while a request runs. It writes when a test flushes it (app.state.downloads.flush())
    and when the client shuts down.
    """
    app = create_app(settings)
    app.state.sessions = sessions
    app.state.downloads.interval = 3600
    return app
