"""The site admin pages at ``/admin/``: users, projects, prohibited names, site flags.

For site admins only: to anyone else, signed in or not, the pages do not exist (404), so
they tell a stranger nothing. Every change is a POST form with a CSRF token, made by a
service that writes its audit row; the request owns the transaction, as everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.package import ProjectStatus
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.accounts import site_admin as account_admin
from wheelyard.services.accounts import two_factor
from wheelyard.services.audit import Origin
from wheelyard.services.projects import prohibited_names, status
from wheelyard.services.projects import site_admin as project_admin
from wheelyard.services.site import flags
from wheelyard.services.site.flags import FlagCache
from wheelyard.storage.base import FileStorage
from wheelyard.web.csrf import verified_form
from wheelyard.web.session import signed_in_user
from wheelyard.web.templating import render

log = logging.getLogger(__name__)

_FLASH = "admin_flash"
_MAX_FIELD = 2000
_NOT_FOUND = "Not found."
# The errors a refused change raises; the page says why and nothing is kept.
_REFUSALS = (
    account_admin.SiteAdminError,
    project_admin.SiteProjectError,
    prohibited_names.ProhibitedNameError,
    status.StatusError,
    flags.FlagError,
)


def _text(form: FormData | Any, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        return ""
    return value.strip()


def _admin(request: Request, db: Session) -> User:
    user = signed_in_user(request, db)
    if user is None or not user.is_admin:
        raise HTTPException(404, _NOT_FOUND)
    return user


def _flash(request: Request) -> str | None:
    flash = request.session.pop(_FLASH, None)
    return flash if isinstance(flash, str) else None


# --- the pages --------------------------------------------------------------------------


def _overview(request: Request, db: Session, user: User, error: str | None = None) -> Response:
    current = flags.read(db)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "admin/index.html",
        status_code=400 if error else 200,
        user=user,
        # Read now, not this worker's copy: the forms must show what is stored, or a
        # button would undo a change another worker made seconds ago.
        flags=current,
        registration=current.registration_open(settings.registration_open),
        flash=None if error else _flash(request),
        error=error,
        section="site",
    )


def _users(request: Request, db: Session, user: User, error: str | None = None) -> Response:
    query = _text(request.query_params, "q")
    return render(
        request,
        "admin/users.html",
        status_code=400 if error else 200,
        user=user,
        query=query,
        accounts=account_admin.search(db, query),
        has_two_factor=two_factor.is_enabled,
        flash=None if error else _flash(request),
        error=error,
        section="users",
    )


def _projects(request: Request, db: Session, user: User, error: str | None = None) -> Response:
    query = _text(request.query_params, "q")
    return render(
        request,
        "admin/projects.html",
        status_code=400 if error else 200,
        user=user,
        query=query,
        projects=project_admin.search(db, query),
        statuses=[choice.value for choice in ProjectStatus],
        flash=None if error else _flash(request),
        error=error,
        section="projects",
    )


def _names(request: Request, db: Session, user: User, error: str | None = None) -> Response:
    return render(
        request,
        "admin/names.html",
        status_code=400 if error else 200,
        user=user,
        names=prohibited_names.all_names(db),
        flash=None if error else _flash(request),
        error=error,
        section="names",
    )


Page = Callable[[Request, Session, User, str | None], Response]


def _page_view(page: Page) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        with transaction(request) as db:
            return page(request, db, _admin(request, db), None)

    return view


# --- the changes ------------------------------------------------------------------------


class Done:
    """What a change reports: the message shown, and blobs to delete once committed."""

    def __init__(self, message: str, blobs: list[str] | None = None) -> None:
        self.message = message
        self.blobs = blobs or []


Change = Callable[[Session, Request, FormData, User, Origin], Done]


def _change_view(change: Change, page: Page, back: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        form = await verified_form(request)
        with transaction(request) as db:
            user = _admin(request, db)
            try:
                done = change(db, request, form, user, client_origin(request))
            except _REFUSALS as error:
                db.rollback()
                return page(request, db, user, str(error))
        # Committed: this worker reads the flags again at once (the others within seconds),
        # and the rows of a deleted project are gone for good, so its blobs may go.
        cache: FlagCache = request.app.state.site_flags
        cache.forget()
        _delete_blobs(request.app.state.storage, done.blobs)
        request.session[_FLASH] = done.message
        query = _text(form, "q")
        target = back + (f"?{urlencode({'q': query})}" if query and back != "/admin/" else "")
        return RedirectResponse(target, status_code=303)

    return view


def _delete_blobs(storage: FileStorage, paths: list[str]) -> None:
    for path in paths:
        try:
            storage.delete(path)
        except Exception:
            log.warning("could not delete blob %s", path, exc_info=True)


def _on_off(form: FormData, name: str = "on") -> bool:
    value = _text(form, name)
    if value not in {"0", "1"}:
        raise flags.FlagError("Say on or off.")
    return value == "1"


def _read_only(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
    on = _on_off(form)
    flags.set_read_only(db, on, _text(form, "reason"), actor_id=user.id, origin=origin)
    return Done("The index is read-only: writes answer 503." if on else "Writes are allowed again.")


def _registration(
    db: Session, request: Request, form: FormData, user: User, origin: Origin
) -> Done:
    on = _on_off(form)
    flags.set_registration(db, on, actor_id=user.id, origin=origin)
    return Done("Registration is open." if on else "Registration is closed.")


def _require_2fa(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
    on = _on_off(form)
    if on and not two_factor.is_enabled(user):
        raise flags.FlagError(
            "Turn on two-factor login for your own account before requiring it of everyone."
        )
    flags.set_require_2fa(db, on, actor_id=user.id, origin=origin)
    if on:
        return Done("Every upload now needs two-factor login of its uploader.")
    return Done("Uploads no longer need two-factor login site-wide.")


def _account(db: Session, form: FormData) -> User:
    return account_admin.find(db, _text(form, "email"))


def _user_change(what: str) -> Change:
    def change(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
        account = _account(db, form)
        email = account.email
        if what in {"deactivate", "reactivate"}:
            changed = account_admin.set_active(
                db, account, what == "reactivate", actor_id=user.id, origin=origin
            )
            state = "active" if what == "reactivate" else "deactivated"
            return Done(f"{email} {'is now' if changed else 'was already'} {state}.")
        if what == "reset-2fa":
            changed = account_admin.reset_two_factor(db, account, actor_id=user.id, origin=origin)
            if changed:
                return Done(f"Two-factor login of {email} is off; it can set it up again.")
            return Done(f"{email} had no two-factor login.")
        if what in {"make-admin", "revoke-admin"}:
            changed = account_admin.set_admin(
                db, account, what == "make-admin", actor_id=user.id, origin=origin
            )
            state = "a site admin" if what == "make-admin" else "no site admin"
            return Done(f"{email} {'is now' if changed else 'was already'} {state}.")
        if _text(form, "confirm") != email:
            raise account_admin.SiteAdminError(f"Type {email} to confirm the removal.")
        tokens = account_admin.remove(db, account, actor_id=user.id, origin=origin)
        return Done(f"{email} is removed, with its {tokens} API token(s).")

    return change


def _project_change(what: str) -> Change:
    def change(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
        package = project_admin.project(db, _text(form, "project"))
        if what == "transfer":
            new_owner = account_admin.find(db, _text(form, "email"))
            project_admin.transfer(db, package, new_owner, actor_id=user.id, origin=origin)
            return Done(f"{new_owner.email} is now the owner of {package.name}.")
        if what == "status":
            wanted = status.parse(_text(form, "status"))
            status.set_status(db, package, wanted, _text(form, "reason"), actor=user, origin=origin)
            return Done(f"{package.name} is {wanted.value}.")
        if _text(form, "confirm") != package.name:
            raise project_admin.SiteProjectError(f"Type {package.name} to confirm the deletion.")
        name = package.name
        blobs = project_admin.delete(db, package, actor_id=user.id, origin=origin)
        return Done(f"{name} is deleted with all its releases and files.", blobs)

    return change


def _prohibit(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
    entry = prohibited_names.prohibit(
        db, _text(form, "name"), _text(form, "reason"), actor_id=user.id, origin=origin
    )
    return Done(f"No upload may create {entry.name} now.")


def _allow(db: Session, request: Request, form: FormData, user: User, origin: Origin) -> Done:
    name = _text(form, "name")
    prohibited_names.allow(db, name, actor_id=user.id, origin=origin)
    return Done(f"{name} may be created again.")


def _users_change(what: str) -> Callable[[Request], Awaitable[Response]]:
    return _change_view(_user_change(what), _users, "/admin/users/")


def _projects_change(what: str) -> Callable[[Request], Awaitable[Response]]:
    return _change_view(_project_change(what), _projects, "/admin/projects/")


routes: list[BaseRoute] = [
    Route("/admin/", _page_view(_overview), name="admin"),
    Route(
        "/admin/flags/read-only", _change_view(_read_only, _overview, "/admin/"), methods=["POST"]
    ),
    Route(
        "/admin/flags/registration",
        _change_view(_registration, _overview, "/admin/"),
        methods=["POST"],
    ),
    Route(
        "/admin/flags/require-2fa",
        _change_view(_require_2fa, _overview, "/admin/"),
        methods=["POST"],
    ),
    Route("/admin/users/", _page_view(_users), name="admin_users"),
    *(
        Route(f"/admin/users/{what}", _users_change(what), methods=["POST"])
        for what in (
            "deactivate",
            "reactivate",
            "reset-2fa",
            "make-admin",
            "revoke-admin",
            "remove",
        )
    ),
    Route("/admin/projects/", _page_view(_projects), name="admin_projects"),
    *(
        Route(f"/admin/projects/{what}", _projects_change(what), methods=["POST"])
        for what in ("transfer", "status", "delete")
    ),
    Route("/admin/names/", _page_view(_names), name="admin_names"),
    Route(
        "/admin/names/prohibit", _change_view(_prohibit, _names, "/admin/names/"), methods=["POST"]
    ),
    Route("/admin/names/allow", _change_view(_allow, _names, "/admin/names/"), methods=["POST"]),
]
