"""Who is logged in: the user id (and name for the header) kept in the signed session."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from wheelyard.data.user import User


@dataclass(frozen=True)
class SessionUser:
    id: int
    name: str


def session_user(request: HTTPConnection) -> SessionUser | None:
    if "session" not in request.scope:
        return None
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    return SessionUser(id=user_id, name=str(request.session.get("user_name", "")))


def log_in(request: HTTPConnection, user: User) -> None:
    # Keep nothing from the anonymous session but a fresh CSRF secret.
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["user_name"] = user.name


def log_out(request: HTTPConnection) -> None:
    request.session.clear()
