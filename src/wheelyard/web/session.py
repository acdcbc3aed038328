"""Who is logged in: the user id, name and session generation kept in the signed session.

A cookie session has no id on the server to revoke, so each carries the account's session
generation from the moment it was issued; ``SessionCheckMiddleware`` empties any session
whose generation is no longer the account's (after a logout, a password change or reset),
or whose account is gone or disabled. Until that check has run for a request, nobody counts
as logged in: a request that bypassed it fails closed.

Between a right password and the second factor, the session holds only a pending login,
which nothing but the two-factor page reads: half logged in is not logged in.

Views ask ``signed_in_user`` who is signed in, send everyone else to ``login_redirect``, and
follow a ``next`` path only once ``safe_next`` has kept it on this site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from wheelyard.data.user import User
from wheelyard.http.responses import sign_in_first
from wheelyard.services import clock
from wheelyard.services.accounts import users
from wheelyard.web import csrf

_USER_ID = "user_id"
_USER_NAME = "user_name"
_GENERATION = "session_generation"
_PENDING = "pending_login"
_CHECKED = "wheelyard.session_checked"
# Time to fetch the phone and type a code; after that, the password is asked for again.
SECOND_FACTOR_SECONDS = 10 * 60
# A ``next`` target longer than this is not followed: no link of the site needs one.
_MAX_NEXT_LENGTH = 2048


@dataclass(frozen=True)
class SessionUser:
    id: int
    name: str


@dataclass(frozen=True)
class PendingLogin:
    """A login waiting for its second factor."""

    user_id: int
    generation: str
    next: str


def session_user(request: HTTPConnection) -> SessionUser | None:
    if "session" not in request.scope or not request.scope.get(_CHECKED):
        return None
    user_id = request.session.get(_USER_ID)
    if not isinstance(user_id, int):
        return None
    return SessionUser(id=user_id, name=str(request.session.get(_USER_NAME, "")))


def signed_in_id(scope: Scope) -> int | None:
    """The id of the account signed in on this request's (checked) session, if any."""
    who = session_user(HTTPConnection(scope))
    return who.id if who is not None else None


def session_generation(request: HTTPConnection) -> object:
    return request.session.get(_GENERATION)


def signed_in_user(request: HTTPConnection, db: Session) -> User | None:
    """The account of the session, if it still exists, is active and the session current."""
    who = session_user(request)
    if who is None:
        return None
    return users.session_holder(db, who.id, session_generation(request))


def login_redirect(request: HTTPConnection) -> RedirectResponse:
    """To the login page, coming back here afterwards."""
    return sign_in_first(request.url.path, request.url.query)


def safe_next(target: str | None, default: str = "/account") -> str:
    """``target`` if it is a path on this site; ``default`` for anything that could leave it.

    Browsers read "//host", "/\\host" and paths with tabs or newlines inside as other sites,
    so only a plain "/path" without backslashes or control characters is followed.
    """
    if not target or len(target) > _MAX_NEXT_LENGTH:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def log_in(request: HTTPConnection, user: User) -> None:
    """Issue a new session for ``user``: new cookie contents and a fresh CSRF secret.

    Nothing of the session before is kept, so a session id an attacker planted before the
    login (session fixation) is worth nothing after it.
    """
    generation = users.session_generation_of(user)
    request.session.clear()
    request.session[_USER_ID] = user.id
    request.session[_USER_NAME] = user.name
    request.session[_GENERATION] = generation
    csrf.token_for(request)


def log_out(request: HTTPConnection) -> None:
    request.session.clear()


def start_second_factor(request: HTTPConnection, user: User, next_path: str) -> None:
    """Remember that ``user`` gave the right password and now owes a second factor."""
    request.session.clear()
    request.session[_PENDING] = {
        "user_id": user.id,
        "generation": users.session_generation_of(user),
        "next": next_path,
        "started": int(clock.timestamp()),
    }
    csrf.token_for(request)


def pending_login(request: HTTPConnection) -> PendingLogin | None:
    """The login waiting for a second factor, while it is recent enough to finish."""
    pending = request.session.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    user_id, generation = pending.get("user_id"), pending.get("generation")
    next_path, started = pending.get("next"), pending.get("started")
    if not (
        isinstance(user_id, int)
        and isinstance(generation, str)
        and isinstance(next_path, str)
        and isinstance(started, int)
    ):
        return None
    if not 0 <= clock.timestamp() - started <= SECOND_FACTOR_SECONDS:
        return None
    return PendingLogin(user_id=user_id, generation=generation, next=next_path)


def _check(scope: Scope) -> None:
    session: dict[str, Any] = scope["session"]
    user_id = session.get(_USER_ID)
    if user_id is not None:
        sessions: sessionmaker[Session] = scope["app"].state.sessions
        with sessions() as db:
            current = isinstance(user_id, int) and (
                users.session_holder(db, user_id, session.get(_GENERATION)) is not None
            )
        if not current:
            # SessionMiddleware sees the emptied session and tells the browser to drop it.
            session.clear()
    scope[_CHECKED] = True


class SessionCheckMiddleware:
    """Ends sessions that are no longer current; must sit inside SessionMiddleware.

    One primary-key lookup per request that carries a logged-in session; anonymous requests
    (pip, uv, twine, crawlers) cost nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "session" in scope:
            _check(scope)
        await self.app(scope, receive, send)
